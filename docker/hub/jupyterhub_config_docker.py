# JupyterHub with DockerSpawner: one container per learner from the workbook image, on one Docker host.
# Not run on the machine that tests this repository (no Docker engine there): it is the configuration that
# would run on a server with Docker and `pip install dockerspawner`. Limits come from bench/RESULTS-workshops.md.
import os

from lifecycle_lab.course.hub import seed_for
from lifecycle_lab.course.roster import read_roster

c = get_config()  # noqa: F821 - provided by JupyterHub
roster = {e.learner: e.seed for e in read_roster(os.environ["WORKSHOP_ROSTER"])} if "WORKSHOP_ROSTER" in os.environ else {}

c.JupyterHub.authenticator_class = "pam"          # real accounts; or an OAuth authenticator for your LMS
c.JupyterHub.spawner_class = "dockerspawner.DockerSpawner"
c.DockerSpawner.image = "lifecycle-lab:latest"    # docker build -f docker/workbook.Dockerfile -t lifecycle-lab .
# first start: copy the learner notebooks with the learner's seed into their volume, then start the server
c.DockerSpawner.cmd = ["sh", "-c", "lifecycle-lab workspace --home /home/jovyan --seed-from-env && "
                       "exec jupyterhub-singleuser"]
c.DockerSpawner.notebook_dir = "/home/jovyan/lifecycle-lab/notebooks"
c.DockerSpawner.volumes = {"lifecycle-lab-{username}": "/home/jovyan/lifecycle-lab"}  # each learner's own volume
c.DockerSpawner.remove = True
c.DockerSpawner.network_name = "jupyterhub"
c.DockerSpawner.mem_limit = "3G"                  # notebook 04 and what it starts peak at ~1.7 GB (bench/RESULTS-workshops.md)
c.DockerSpawner.cpu_limit = 1.0
c.JupyterHub.hub_ip = "0.0.0.0"


def pre_spawn(spawner):
    # read by `lifecycle-lab workspace --seed-from-env` in the container's start command
    spawner.environment["LIFECYCLE_LAB_SEED"] = str(seed_for(spawner.user.name, roster))
    spawner.environment["LIFECYCLE_LAB_BUILD"] = "/home/jovyan/lifecycle-lab/build"


c.Spawner.pre_spawn_hook = pre_spawn
