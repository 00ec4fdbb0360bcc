"""The same program as store_heavy.py with no region: the baseline under plain python."""


class Region:
    pass


class Particle:
    def __init__(self, i):
        self.x = i % 97
        self.v = 1 + i % 3
        self.trail = []


world = Region()
world.particles = [Particle(i) for i in range(1000)]
scratch = {"hits": 0}
for step in range(300):
    for p in world.particles:
        p.x = p.x + p.v
        if p.x > 150:
            p.v = -p.v
        scratch["hits"] = scratch["hits"] + 1
    if step % 100 == 0:
        for p in world.particles:
            p.trail.append(p.x)
print(sum(p.x for p in world.particles), scratch["hits"])
