"""Azure Policy: definitions, initiatives, assignments and exemptions, the rule language, effects and compliance.

Modules: ``aliases`` (Microsoft's published aliases, read by the kind registry), ``paths`` (alias paths over a
resource document), ``functions`` (the policy function table over ``azemu.templates``), ``conditions`` and
``rules`` (a rule compiled once into closures), ``effects`` (deny, append, modify, denyAction, the errors),
``model`` (definitions, assignments, exemptions as data), ``builtins`` (Microsoft's built-in definitions),
``compliance`` (policy states), ``engine`` (the registry's write guard), ``service`` (the resource kinds).

This package's ``__init__`` imports nothing: ``domain.kinds`` reads ``aliases`` without pulling in the rest.
"""
