"""spin-audit: check NERSC Spin stacks (Rancher 1.6, compose v2) before `rancher up` does.

Spin's API answers a policy breach with a bare 401; this package names the breach,
the file and line, and the fix.
"""

__version__ = "0.1.0"
