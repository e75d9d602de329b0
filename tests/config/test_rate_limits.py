import pytest

from config import rate_limits
from config.devstack import EmbeddedRedis
from config.errors import RateLimited


def test_hits_over_the_limit_in_one_window_are_refused():
    for _ in range(3):
        rate_limits.rate_limit_check(bucket="t", identity="a", limit=3, window_seconds=60)
    with pytest.raises(RateLimited):
        rate_limits.rate_limit_check(bucket="t", identity="a", limit=3, window_seconds=60)
    # another identity has its own window
    rate_limits.rate_limit_check(bucket="t", identity="b", limit=3, window_seconds=60)


def test_an_unreachable_redis_lets_the_request_through(settings, tmp_path, caplog):
    from config.redis_connections import reset_clients

    own = EmbeddedRedis(tmp_path).start()
    own.stop()
    settings.REDIS_APP_URL = f"{own.url}/0"
    reset_clients()
    try:
        rate_limits.rate_limit_check(bucket="t", identity="a", limit=0, window_seconds=60)
    finally:
        reset_clients()
    assert "rate limit t not checked" in caplog.text
