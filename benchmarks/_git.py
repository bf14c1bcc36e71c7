"""The checkout's commit, for benchmark records."""

from __future__ import annotations

from pathlib import Path


def git_sha(root: Path) -> str:
    """HEAD's commit of the checkout at ``root``, read from its git files (no git process
    is started; local changes are not detected); ``unknown`` where there is none.

    A linked worktree (``git worktree add``) has a ``.git`` file naming its own git
    directory, which holds its HEAD; branches live in the shared directory it names in
    ``commondir``.
    """
    git = root / ".git"
    try:
        if git.is_file():  # "gitdir: <path>"
            git = (root / git.read_text().split(":", 1)[1].strip()).resolve()
        common = git / (git / "commondir").read_text().strip() if (
            git / "commondir").exists() else git
        head = (git / "HEAD").read_text().strip()
        if not head.startswith("ref: "):
            return head
        ref = head[5:]
        for base in (git, common):
            if (base / ref).exists():
                return (base / ref).read_text().strip()
        for line in (common / "packed-refs").read_text().splitlines():
            if line.endswith(" " + ref):
                return line.split()[0]
    except OSError:
        pass
    return "unknown"
