"""`make notebooks` and `make student`: runs ``python -m spectral_bias.booktools.notebooks`` (see its --help)."""

from spectral_bias.booktools.notebooks import main

raise SystemExit(main())
