#!/usr/bin/env python3
"""The package graph, drawn from the csproj files, and the layering rules it must keep.

  build/package-graph.py            rewrites the graph in docs/architecture.md
  build/package-graph.py --check    fails if the doc is stale or a rule is broken (build/test.sh runs it)

Rules: Edge.Plugin.Abstractions references nothing; Edge.Plugin.Hosting references only Abstractions and
Microsoft.Extensions.*; no project cycles; no namespace cycles inside a project (types are matched by
name against the types each namespace declares, comments and strings left out).
"""
import pathlib
import re
import sys
import xml.etree.ElementTree as ET

ROOT = pathlib.Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "architecture.md"
BEGIN, END = "<!-- package-graph:begin -->", "<!-- package-graph:end -->"


def projects():
    found = {}
    for csproj in sorted((ROOT / "src").glob("*/*.csproj")):
        tree = ET.parse(csproj)
        name = csproj.stem
        props = {e.tag: (e.text or "") for e in tree.iter() if e.tag in ("PackageId", "IsPackable", "PackageType")}
        if props.get("PackageType") == "Template":
            continue
        refs = [pathlib.Path(r.get("Include")).stem for r in tree.iter("ProjectReference")
                if r.get("ReferenceOutputAssembly", "true").lower() != "false"]
        packages = [r.get("Include") for r in tree.iter("PackageReference") if r.get("PrivateAssets", "").lower() != "all"]
        found[name] = (refs, packages, csproj.parent)
    return found


def cycles(edges):
    """Every cycle's nodes, found by depth-first search; empty when the graph is a DAG."""
    state, stack, found = {}, [], []

    def visit(node):
        state[node] = 1
        stack.append(node)
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == 1:
                found.append(stack[stack.index(nxt):] + [nxt])
            elif nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for node in sorted(edges):
        if node not in state:
            visit(node)
    return found


STRIP = re.compile(r'//[^\n]*|/\*.*?\*/|@?"(?:[^"\\\n]|\\.)*"|\'(?:[^\'\\\n]|\\.)\'', re.S)
DECL = re.compile(r'\b(?:class|struct|record|interface|enum|delegate\s+[\w<>\[\],. ?]+)\s+(\w+)')


def namespace_edges(folder):
    files = [f for f in folder.rglob("*.cs") if "/obj/" not in str(f) and "/bin/" not in str(f)]
    declared, bodies = {}, []
    for f in files:
        text = STRIP.sub('""', f.read_text(encoding="utf-8"))
        m = re.search(r'^namespace\s+([\w.]+)\s*;', text, re.M)
        if not m:
            continue
        ns = m.group(1)
        bodies.append((ns, text))
        for name in DECL.findall(text):
            declared.setdefault(name, set()).add(ns)
    edges = {}
    for ns, text in bodies:
        used = set(re.findall(r'\b[A-Z]\w*', text))
        for name in used:
            for other in declared.get(name, ()):
                if other != ns and len(declared[name]) == 1:
                    edges.setdefault(ns, set()).add(other)
    return edges


def mermaid(found):
    lines = ["```mermaid", "graph LR"]
    for name in found:
        refs, packages, _ = found[name]
        for r in refs:
            lines.append(f"  {name.replace('.', '_')}[{name}] --> {r.replace('.', '_')}[{r}]")
        external = [p for p in packages if not p.startswith("Microsoft.Extensions.") and p != "Microsoft.SourceLink.GitHub"]
        for p in external:
            lines.append(f"  {name.replace('.', '_')}[{name}] -.-> {p.replace('.', '_')}([{p}])")
    lines.append("```")
    table = ["", "| package | references | third-party packages |", "|---|---|---|"]
    for name, (refs, packages, _) in found.items():
        external = [p for p in packages if not p.startswith("Microsoft.Extensions.") and p != "Microsoft.SourceLink.GitHub"]
        table.append(f"| {name} | {', '.join(refs) or '—'} | {', '.join(external) or '—'} |")
    return "\n".join(lines + table)


def main():
    check = "--check" in sys.argv
    found = projects()
    problems = []
    abstractions = found.get("Edge.Plugin.Abstractions")
    if abstractions and (abstractions[0] or abstractions[1]):
        problems.append(f"Edge.Plugin.Abstractions must reference nothing; it references {abstractions[0] + abstractions[1]}")
    hosting = found.get("Edge.Plugin.Hosting")
    if hosting:
        bad = [r for r in hosting[0] if r != "Edge.Plugin.Abstractions"] + [p for p in hosting[1] if not p.startswith("Microsoft.Extensions.")]
        if bad:
            problems.append(f"Edge.Plugin.Hosting may reference only Abstractions and Microsoft.Extensions.*; it references {bad}")
    for cycle in cycles({n: set(v[0]) for n, v in found.items()}):
        problems.append("project cycle: " + " -> ".join(cycle))
    for name, (_, _, folder) in found.items():
        for cycle in cycles(namespace_edges(folder)):
            problems.append(f"namespace cycle in {name}: " + " -> ".join(cycle))

    graph = mermaid(found)
    text = DOC.read_text(encoding="utf-8") if DOC.exists() else ""
    if BEGIN not in text:
        problems.append(f"{DOC.relative_to(ROOT)} has no {BEGIN} ... {END} section")
    else:
        before, rest = text.split(BEGIN, 1)
        after = rest.split(END, 1)[1]
        updated = f"{before}{BEGIN}\n{graph}\n{END}{after}"
        if updated != text:
            if check:
                problems.append(f"{DOC.relative_to(ROOT)} is stale: run build/package-graph.py")
            else:
                DOC.write_text(updated, encoding="utf-8")
                print(f"wrote the package graph into {DOC.relative_to(ROOT)}")
    for p in problems:
        print(f"package-graph: {p}", file=sys.stderr)
    if not problems:
        print(f"package-graph: {len(found)} packages, no project or namespace cycles, layering rules kept")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
