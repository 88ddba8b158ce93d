"""Edge topologies and service placement: where should each AI service and its replicas run?"""
