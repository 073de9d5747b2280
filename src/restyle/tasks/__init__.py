"""Durable tasks: the store (the truth), the queue interface, the runner and the retention sweeper."""
