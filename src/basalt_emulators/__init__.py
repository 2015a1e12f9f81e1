"""Protocol emulators for the storage arrays Basalt drives (tests and demos only).

Basalt itself never imports this package.
"""
