#!/usr/bin/env bash
# Fails when a build or test run left files behind in the work tree: a
# tracked file changed, or an untracked file that .gitignore does not cover.
#   clean-tree.sh BEFORE   BEFORE is `git status --porcelain` from the start
# In CI (a fresh clone, CI set) the tree must be clean; elsewhere it must be
# as it was before the run (a developer's own edits are theirs).
set -euo pipefail
cd "$(dirname "$0")/../.."
if ! git rev-parse --git-dir >/dev/null 2>&1; then
  echo "clean-tree: not a git work tree; skipped"
  exit 0
fi
before=${1:-}
after=$(git status --porcelain --untracked-files=all)
if [ -n "${CI:-}" ] && [ -n "$after" ]; then
  echo "clean-tree: the run left the work tree dirty (tracked changes, or untracked files not in .gitignore):"
  echo "$after"
  exit 1
fi
if [ "$after" != "$before" ]; then
  echo "clean-tree: the run changed the work tree:"
  diff <(echo "$before") <(echo "$after") | sed -n 's/^> /  /p'
  exit 1
fi
echo "clean-tree: git status unchanged${CI:+ (clean)}"
