"""One module per warehouse engine, each a subclass of :class:`gateway.warehouse.contract.Warehouse`.

Which URL scheme picks which module, and which pip extra brings its driver, is the table in
:mod:`gateway.warehouse.registry`.
"""
