"""Allow `python -m spin_audit`."""

import sys

from spin_audit.cli import main

sys.exit(main())
