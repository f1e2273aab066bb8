"""The language server: live feedback on rule files in an editor (issue 29).

A room of its own on top, beside the service and the batch mode: it imports the loader,
the checker and `validate`'s warnings (no second parser, no other messages), and nothing
imports it but the CLI's `lsp` command, lazily, so the library never needs pygls. Its
rooms:

- `folder.py`: a policy folder as the editor has it (its open documents' unsaved text
  over the files on disk), checked as `validate` checks it; every problem and warning
  as a diagnostic of the file that causes it; an edited rule file checked alone against
  the folder as last read.
- `index.py`: where each term, fact, decision, customer and clause is written in every
  file of the folder, from the parsed expressions and the located YAML (references,
  rename, and what the cursor is on).
- `answers.py`: what the server says, in words: a clause's passage of the agreement (the
  clause map's own reader), a customer's instrument and own terms, a decision's rules in
  words (the memo's wording), why a new name is refused, a case's outcome, a decision
  with the examples.
- `completing.py`: what completion offers where the cursor is: the keys above it, and in
  an expression what the checker finds fits there (`language.checker.holes`), a fact's
  allowed choices, clause numbers, queries, customer ids and a case's facts.
- `server.py`: the Language Server Protocol over stdio (pygls): diagnostics as you type
  (the edited file at once, the whole folder when the typing pauses),
  hover (a term's value in force and clause, a fact's declaration, a function's use, a
  clause, a customer, a decision), go to definition, find references, rename a term,
  completion of what fits where the cursor is (`completing`), quick
  fixes from the errors' own mechanical fixes, formatting in `fmt`'s layout, and code
  lenses to run a policy test's case, accept it, and decide a decision with the examples.

It needs the `lsp` extra: ``pip install 'neocrm-policy[lsp]'``.
"""
