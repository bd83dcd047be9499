"""``python -m zoning.demo OUTDIR [--resolution 100] [--seed N]``: write the demonstration inputs."""

from zoning.demo.groundwater import main

main()
