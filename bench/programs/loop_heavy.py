"""A loop-heavy program: about 1,000,000 line events and almost no objects."""
total = 0
for i in range(500_000):
    total += i
print(total)
