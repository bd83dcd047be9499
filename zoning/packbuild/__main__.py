"""``python -m zoning.packbuild [PACK_DIR]``: rebuild the shipped pack."""

import sys

from zoning.packbuild.build import build_pack

if __name__ == "__main__":
    target = build_pack(*sys.argv[1:2])
    print(f"wrote {target}")
