"""The markers that declare (hookspec) and implement (hookimpl) Lepton hooks."""

import pluggy

PROJECT_NAME = "lepton"

hookspec = pluggy.HookspecMarker(PROJECT_NAME)
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)
