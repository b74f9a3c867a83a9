"""Real infrastructure on one machine, from wheels: mongod, nats-server, an
S3 server. The launcher (`webos up`) and the test fixtures both use these."""

from webos_common.infra.mongo import MongoServer
from webos_common.infra.nats import NatsCluster, NatsServer
from webos_common.infra.process import ManagedProcess, free_port, wait_port
from webos_common.infra.s3 import S3Server

__all__ = ["ManagedProcess", "MongoServer", "NatsCluster", "NatsServer", "S3Server", "free_port", "wait_port"]
