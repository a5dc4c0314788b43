"""Print the commands of the README's Quick start: the first fenced code block under that heading."""

import re
import sys


def quickstart_commands(readme_text: str) -> list[str]:
    section = readme_text.split("## Quick start", 1)[1]
    block = re.search(r"```[a-z]*\n(.*?)```", section, re.S)
    if block is None:
        raise SystemExit("no fenced code block under '## Quick start'")
    return [line for line in block.group(1).splitlines() if line.strip() and not line.lstrip().startswith("#")]


if __name__ == "__main__":
    with open(sys.argv[1], encoding="utf-8") as readme:
        print("\n".join(quickstart_commands(readme.read())))
