"""Imports a module that only a layer provides (under python/ in the layer's zip)."""

import labutil


def handler(event, context):
    return {"from_layer": labutil.VALUE}
