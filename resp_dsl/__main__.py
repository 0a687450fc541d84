import sys

from resp_dsl.cli import main

sys.exit(main())
