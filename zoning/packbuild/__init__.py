"""Builders of the shipped Jincheng layer pack (run by ``python -m zoning.packbuild``).

Each module turns one public source (a registry data set or a gazette in
``layers/jincheng/sources/``) into a GeoDataFrame or table; ``zoning.packbuild.build``
writes them all into the pack. Nothing here runs when the tool answers a query.
"""
