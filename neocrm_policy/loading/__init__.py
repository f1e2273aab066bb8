"""Loading: a folder of rule files in, a checked model of its policies out.

The loader reads each file through `source`, matches it against its JSON Schema
(`schema_match` turns a schema's complaint into an editor's words), builds the model
and has `language` check it; `clausemap` ties rules to the agreement's clauses; `cache`
and `parsed` keep a folder's verdict and what it parsed to between processes. It
imports `language`, `source` and the ground, never a stage that decides or authors.
"""
