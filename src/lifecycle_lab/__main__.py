import sys

from lifecycle_lab.cli import main

sys.exit(main())
