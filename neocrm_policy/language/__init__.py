"""Language: what a rule file means, from an expression's text to compiled Python.

The grammar and its parser (`syntax/`), the model of a policy (`model`), the values it
computes with (`values`, `calendars`), what a declared fact accepts (`facts`,
`fact_plan`), the checker (`checker/`), the compiler and what compiled code calls
(`compiler`, `runtime`, `dispatch`), and the reference interpreter that holds the
compiler to the language's meaning (`reference/`). It imports only `source` and the
ground: nothing here knows about folders of rule files, decisions asked at a time, or
the tools built on them.
"""
