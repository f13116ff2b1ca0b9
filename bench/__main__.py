"""`make bench`: run every benchmark module in this folder (each has a ``main()``)."""

import importlib
import pkgutil
import sys

import bench

if __name__ == "__main__":
    only = set(sys.argv[1:])
    for module_info in sorted(pkgutil.iter_modules(bench.__path__), key=lambda m: m.name):
        if module_info.name.startswith("_") or (only and module_info.name not in only):
            continue
        module = importlib.import_module(f"bench.{module_info.name}")
        print(f"\n== {module_info.name} ==")
        module.main()
