"""Load profiles: how many users or arrivals, for how long, and what must hold."""

from perfgate.profiles.loader import load_profile, resolve_profile_path
from perfgate.profiles.model import Profile, Stage

__all__ = ["Profile", "Stage", "load_profile", "resolve_profile_path"]
