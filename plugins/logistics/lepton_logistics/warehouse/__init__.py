"""Warehouse slotting and pick routing, fed by a forecast of SKU velocity."""
