"""A development cluster on loopback (``make cluster``): process helpers, a moto S3 server, a proxy.

Nothing here is used by ``restyle serve`` or ``restyle worker``; the tests and the cluster bench
reuse these pieces to start the same parts the same way.
"""
