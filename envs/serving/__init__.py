"""Envs over the network: any registered env served as an OpenEnv environment (``rlvr serve``, on
openenv-core's server), and the client env that plays it from elsewhere (``envs.make(id, remote=URL)``)."""
