import sys

from resdesk.cli import main

sys.exit(main())
