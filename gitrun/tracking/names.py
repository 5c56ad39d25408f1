"""Random run names in MLflow's style: ``adjective-noun-NNN``, at most 20 characters."""

from __future__ import annotations

import random

_ADJECTIVES = (
    "able amazing bold brave bright calm casual clean clever crisp curious dapper eager fair "
    "fancy fun gentle glad grand happy honest jolly kind lively lucky merry mighty neat nimble "
    "noble polite proud quick quiet rare rich royal shy silent smart smooth sneaky spry stately "
    "steady sunny swift tasty tender thoughtful tidy trusting upbeat valiant vivid wise witty zealous"
).split()
_NOUNS = (
    "ant ape bass bat bear bee bird boar bug calf carp cat clam colt conch cow crab crane crow "
    "cub deer doe dog dove duck eel elk finch fish flea fly foal fowl fox frog gnat goat goose "
    "gull hare hawk hen hog horse hound jay kit koi lamb lark lion loon lynx mole moose moth "
    "mouse mule newt owl ox panda pig pony ray rat robin roo seal shark sheep shrew skink slug "
    "snail snake squid stag stork swan tern toad trout wasp whale wolf worm wren yak zebra"
).split()


def generate() -> str:
    rng = random.SystemRandom()
    return f"{rng.choice(_ADJECTIVES)}-{rng.choice(_NOUNS)}-{rng.randint(0, 999)}"
