from depthai_ros_bridge.core.rates import RateLimiter, RateMeter


def test_meter_measures_a_steady_rate():
    meter = RateMeter(window_s=10)
    for i in range(31):
        meter.tick(i / 30)
    assert abs(meter.rate(1.0) - 30) < 0.5
    assert meter.count == 31


def test_meter_forgets_old_events():
    meter = RateMeter(window_s=1)
    for i in range(10):
        meter.tick(i * 0.1)
    assert meter.rate(5.0) == 0.0


def test_limiter_halves_a_30hz_stream_at_15hz():
    limiter = RateLimiter(15.0)
    passed = [i for i in range(30) if limiter.allow(i / 30)]
    assert passed == list(range(0, 30, 2))


def test_limiter_zero_means_no_limit():
    limiter = RateLimiter(0.0)
    assert all(limiter.allow(i / 30) for i in range(30))
