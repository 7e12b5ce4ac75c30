"""Template functions, one module per family; :mod:`.catalog` assembles them into tables.

Pure families (no deployment state): :mod:`.logical`, :mod:`.numeric`, :mod:`.strings`, :mod:`.collections`,
:mod:`.lambdas`, :mod:`.dates`, :mod:`.network`. Deployment functions (``parameters``, ``reference``, ``resourceId``, ...) live in
:mod:`.deployment` and need the template engine's environment.
"""
