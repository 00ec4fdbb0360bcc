"""A churning program: about 1,000,000 line events, objects born and dropped all along
(so its trace is mostly interval rows, not only packed steps)."""
window = []
for i in range(250_000):
    window.append([i])
    if len(window) > 64:
        window.pop(0)
print(len(window))
