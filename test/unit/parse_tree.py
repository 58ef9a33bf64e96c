"""Parse every file of a generated tree with the real parser of its format.

usage: python3 parse_tree.py DIR  -> JSON {"errors": [...], "parsed": N, "values": {...}}
values: pyproject project.description, and every string value found under
YAML keys named DESCRIPTION/description/SERVICE_DESCRIPTION (for round-trip checks).
"""
import ast, json, os, sys, tomllib

import yaml

root = sys.argv[1]
errors, values, parsed = [], {}, 0


class Loader(yaml.SafeLoader):
    pass


# GitLab CI's !reference tag and similar custom tags are valid YAML
Loader.add_multi_constructor("!", lambda loader, suffix, node: None)


def walk(obj, path, found):
    if isinstance(obj, dict):
        for k, v in obj.items():
            if isinstance(k, str) and k.lower() in ("description", "service_description") and isinstance(v, str):
                found.append(v)
            walk(v, path + [k], found)
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            walk(v, path + [i], found)


for dirpath, dirnames, filenames in os.walk(root):
    dirnames[:] = [d for d in dirnames if d != ".git"]
    for name in filenames:
        p = os.path.join(dirpath, name)
        rel = os.path.relpath(p, root)
        try:
            text = open(p, encoding="utf-8").read()
        except UnicodeDecodeError:
            continue
        try:
            if name.endswith(".toml") or name == "uv.lock":
                doc = tomllib.loads(text)
                if name == "pyproject.toml":
                    values["pyproject.description"] = doc.get("project", {}).get("description")
            elif name.endswith((".yaml", ".yml")):
                found = []
                for doc in yaml.load_all(text, Loader=Loader):
                    walk(doc, [], found)
                values["yaml:" + rel] = found
            elif name.endswith(".py"):
                ast.parse(text, filename=rel)
            elif name.endswith(".json"):
                json.loads(text)
            else:
                continue
            parsed += 1
        except Exception as e:  # noqa: BLE001
            errors.append(f"{rel}: {type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}")

print(json.dumps({"errors": errors, "parsed": parsed, "values": values}))
