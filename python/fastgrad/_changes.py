"""A count of the changes that can leave a captured step's plan (fastgrad.compile) pointing at the
wrong objects: an attribute of a module assigned (train()/eval(), a parameter replaced) or a tensor
given another buffer (p.data = t). A plan walks those guards only when the count moved since it
last did, so a replay usually pays one integer compare instead of a getattr per module and
parameter. Any change may bump it: a spurious bump costs one full check, never a new plan."""
import itertools

_next = itertools.count(1).__next__   # atomic under the GIL: two threads never get the same value
count = 0


def changed():
    global count
    count = _next()
