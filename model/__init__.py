"""The scoring core shared by the service and training: contracts, features, history, model artifact."""
