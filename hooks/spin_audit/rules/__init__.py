"""The rules, one module per group of ids. registry.RULE_MODULES says which modules judge
which kind of input; importing a module registers its rules."""
