"""Deciding: facts in, a decision with its trace and its words out.

`engine` holds the policy set, the terms in force at a time (dated versions,
amendments, customers' own instruments) and `decide()`; `prepared` is a decision made
ready for one time and customer; `trace` and `explain` are the decision and its memo;
`wording` and `prose` put rules and editors' prose into words; `served` is a policy set
as a service or a batch holds it (its revision, reloading off the request path). It
imports `loading`, `language`, `source` and the ground.
"""
