"""The language server: live feedback on rule files in an editor (issue 29).

A room of its own on top, beside the service and the batch mode: it imports the loader,
the checker and `validate`'s warnings (no second parser, no other messages), and nothing
imports it but the CLI's `lsp` command, lazily, so the library never needs pygls. Its
rooms:

- `folder.py`: a policy folder as the editor has it (its open documents' unsaved text
  over the files on disk), checked as `validate` checks it; every problem and warning
  as a diagnostic of the file that causes it.
- `server.py`: the Language Server Protocol over stdio (pygls): diagnostics as you type,
  hover (a term's value in force and clause, a fact's declaration, a function's use),
  go to definition, completion of terms, facts, decisions, functions and units, and
  quick fixes from the errors' own mechanical fixes.

It needs the `lsp` extra: ``pip install 'neocrm-policy[lsp]'``.
"""
