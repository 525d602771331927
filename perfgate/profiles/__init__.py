"""Load profiles: how many users or arrivals, for how long, and what must hold."""

from perfgate.profiles.model import Profile, Stage
from perfgate.profiles.loader import load_profile, resolve_profile_path

__all__ = ["Profile", "Stage", "load_profile", "resolve_profile_path"]
