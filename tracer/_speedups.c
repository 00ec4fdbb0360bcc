/* The LINE callback's common case in C (see tracer/line.py, the reference).
 *
 * `LineFast(monitor, fallback, ...)` is a callable registered for LINE events in
 * place of the pure-Python `line_event` (`fallback`). It does what `line_event` does
 * for the common line: a frame the monitor knows whose last line stored nothing, or
 * stored one variable that now holds a short number, bool or None (or, through the
 * recorder's set_slot in C, SlotsFast below, a str or an object that has a node already).
 * Before it changes
 * anything it checks that the line is such a line; any other line (a new frame, a
 * reference, a long text, a deleted variable, several variables...) is handed whole
 * to `fallback`, so both paths record exactly the same trace. What follows the
 * stores (later changes, reaping, settling, the step itself, the check) is the same
 * few calls as in Python.
 *
 * Attributes of the monitor, the recorder and a FrameRec are their __slots__: they
 * are read and written at the offsets their member descriptors give (found once),
 * not looked up by name at every step.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stddef.h>

/* The recorder's set_slot in C (SlotsFast, defined below), as LineFast uses it. */
typedef struct SlotsFast SlotsFast;
static int slots_fast_takes(SlotsFast *self, PyObject *value);
static int set_slot(SlotsFast *self, PyObject *nid, PyObject *name, PyObject *value);
static int SlotsFast_init(SlotsFast *self, PyObject *args, PyObject *kwds);

/* A __slots__ attribute read at its offset (a borrowed reference, NULL if unset). */
#define SLOT(obj, off) (*(PyObject **)((char *)(obj) + (off)))

static inline void
slot_set(PyObject *obj, Py_ssize_t off, PyObject *value)  /* steals `value` */
{
    PyObject *old = SLOT(obj, off);
    SLOT(obj, off) = value;
    Py_XDECREF(old);
}

typedef struct {
    PyObject_HEAD
    PyObject *monitor, *recorder, *writer, *fallback;
    PyObject *frames, *dirty, *later, *suspended;  /* the monitor's, kept in place */
    PyObject *step_append, *settle, *check, *reap;
    PyObject *gens_gone;  /* the monitor's (kept in place): `reap` is called only when it is due */
    /* the recorder's SlotsFast when its set_slot is that (below), else NULL: a line that
       stored a str or a reference to a node already there is then recorded here too */
    PyObject *slots_fast;
    PyTypeObject *rec_type;  /* FrameRec: the only type whose offsets we know */
    Py_ssize_t max_repr, run_size;
    /* offsets of FrameRec's slots */
    Py_ssize_t r_last_line, r_stores, r_scope, r_slots, r_step_code, r_wide, r_node;
    /* offsets of Monitor's and Recorder's slots */
    Py_ssize_t m_step, m_unsettled, m_frames_dirty, m_next_check, c_step, c_changed;
    Py_ssize_t m_reap_all, m_scan_all;
} LineFast;

/* The offset of the __slots__ member `name` of `type`, or -1 with an error set. */
static Py_ssize_t
member_offset(PyTypeObject *type, const char *name)
{
    PyObject *descr = PyObject_GetAttrString((PyObject *)type, name);
    if (descr == NULL)
        return -1;
    if (!Py_IS_TYPE(descr, &PyMemberDescr_Type)
            || ((PyMemberDescrObject *)descr)->d_member->type != Py_T_OBJECT_EX) {
        PyErr_Format(PyExc_TypeError, "%s.%s is not a __slots__ attribute", type->tp_name, name);
        Py_DECREF(descr);
        return -1;
    }
    Py_ssize_t offset = ((PyMemberDescrObject *)descr)->d_member->offset;
    Py_DECREF(descr);
    return offset;
}

static int
get_attr(PyObject *obj, const char *name, PyObject **out)
{
    *out = PyObject_GetAttrString(obj, name);
    return *out == NULL ? -1 : 0;
}

static int
LineFast_init(LineFast *self, PyObject *args, PyObject *kwds)
{
    PyObject *monitor, *fallback, *rec_type;
    Py_ssize_t max_repr, run_size;
    static char *kwlist[] = {"monitor", "fallback", "rec_type", "max_repr", "run_size", NULL};
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "OOO!nn", kwlist, &monitor, &fallback,
                                     &PyType_Type, &rec_type, &max_repr, &run_size))
        return -1;
    if (self->monitor != NULL) {
        PyErr_SetString(PyExc_TypeError, "LineFast is initialised once");
        return -1;
    }
    self->monitor = Py_NewRef(monitor);
    self->fallback = Py_NewRef(fallback);
    self->rec_type = (PyTypeObject *)Py_NewRef(rec_type);
    self->max_repr = max_repr;
    self->run_size = run_size;
    if (get_attr(monitor, "recorder", &self->recorder) || get_attr(self->recorder, "writer", &self->writer)
            || get_attr(monitor, "frames", &self->frames) || get_attr(monitor, "dirty", &self->dirty)
            || get_attr(monitor, "later", &self->later) || get_attr(monitor, "suspended", &self->suspended)
            || get_attr(monitor, "step_append", &self->step_append)
            || get_attr(monitor, "_settle", &self->settle) || get_attr(monitor, "_check", &self->check)
            || get_attr(monitor, "_reap", &self->reap) || get_attr(monitor, "gens_gone", &self->gens_gone))
        return -1;
    PyObject *setter = PyObject_GetAttrString(self->recorder, "set_slot");
    if (setter == NULL)
        return -1;
    if (PyCFunction_Check(setter)) {
        PyObject *owner = PyCFunction_GET_SELF(setter);
        if (owner != NULL && Py_TYPE(owner)->tp_init == (initproc)SlotsFast_init)
            self->slots_fast = Py_NewRef(owner);
    }
    Py_DECREF(setter);
    if (!PyDict_CheckExact(self->frames) || !PyList_CheckExact(self->dirty)
            || !PyDict_CheckExact(self->later) || !PyDict_CheckExact(self->suspended)
            || !PyList_CheckExact(self->gens_gone)) {
        PyErr_SetString(PyExc_TypeError,
                        "the monitor's frames, dirty, later, suspended, gens_gone: dict, list, dict, dict, list");
        return -1;
    }
    PyTypeObject *rt = self->rec_type, *mt = Py_TYPE(monitor), *ct = Py_TYPE(self->recorder);
    if ((self->r_last_line = member_offset(rt, "last_line")) < 0
            || (self->r_stores = member_offset(rt, "stores")) < 0
            || (self->r_scope = member_offset(rt, "scope")) < 0
            || (self->r_slots = member_offset(rt, "slots")) < 0
            || (self->r_step_code = member_offset(rt, "step_code")) < 0
            || (self->r_wide = member_offset(rt, "wide")) < 0
            || (self->r_node = member_offset(rt, "node")) < 0
            || (self->m_step = member_offset(mt, "step")) < 0
            || (self->m_unsettled = member_offset(mt, "unsettled")) < 0
            || (self->m_frames_dirty = member_offset(mt, "frames_dirty")) < 0
            || (self->m_next_check = member_offset(mt, "next_check")) < 0
            || (self->m_reap_all = member_offset(mt, "reap_all")) < 0
            || (self->m_scan_all = member_offset(mt, "scan_all")) < 0
            || (self->c_step = member_offset(ct, "step")) < 0
            || (self->c_changed = member_offset(ct, "changed")) < 0)
        return -1;
    return 0;
}

static int
LineFast_traverse(LineFast *self, visitproc visit, void *arg)
{
    Py_VISIT(self->monitor); Py_VISIT(self->recorder); Py_VISIT(self->writer); Py_VISIT(self->fallback);
    Py_VISIT(self->frames); Py_VISIT(self->dirty); Py_VISIT(self->later); Py_VISIT(self->suspended);
    Py_VISIT(self->step_append); Py_VISIT(self->settle); Py_VISIT(self->check); Py_VISIT(self->reap);
    Py_VISIT(self->rec_type); Py_VISIT(self->slots_fast); Py_VISIT(self->gens_gone);
    return 0;
}

static int
LineFast_clear(LineFast *self)
{
    Py_CLEAR(self->monitor); Py_CLEAR(self->recorder); Py_CLEAR(self->writer); Py_CLEAR(self->fallback);
    Py_CLEAR(self->frames); Py_CLEAR(self->dirty); Py_CLEAR(self->later); Py_CLEAR(self->suspended);
    Py_CLEAR(self->step_append); Py_CLEAR(self->settle); Py_CLEAR(self->check); Py_CLEAR(self->reap);
    Py_CLEAR(self->rec_type); Py_CLEAR(self->slots_fast); Py_CLEAR(self->gens_gone);
    return 0;
}

static void
LineFast_dealloc(LineFast *self)
{
    PyObject_GC_UnTrack(self);
    LineFast_clear(self);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

/* Would `Monitor._reap` look at anything (a generator went, a `close`, or generators not
   watched)? Its own first test, asked here: most steps with suspended generators have
   none of these, and then a Python call per step buys nothing. (A slot not set: asked.) */
static int
reap_due(LineFast *self)
{
    if (PyList_GET_SIZE(self->gens_gone))
        return 1;
    PyObject *reap_all = SLOT(self->monitor, self->m_reap_all), *scan_all = SLOT(self->monitor, self->m_scan_all);
    return reap_all != Py_False || scan_all != Py_False;
}

/* Not a line for the fast path: `line_event(code, line)` does all of it. */
static PyObject *
hand_over(LineFast *self, PyObject *const *args)
{
    return PyObject_Vectorcall(self->fallback, args, 2, NULL);
}

static PyObject *
LineFast_call(LineFast *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 2) {
        PyErr_SetString(PyExc_TypeError, "line(code, line) takes two arguments");
        return NULL;
    }
    if (self->monitor == NULL) {
        PyErr_SetString(PyExc_TypeError, "LineFast is not initialised");
        return NULL;
    }
    PyObject *line = args[1];
    PyFrameObject *frame = PyEval_GetFrame();  /* the program's (borrowed) */
    if (frame == NULL)
        return hand_over(self, args);
    PyObject *rec = PyDict_GetItemWithError(self->frames, (PyObject *)frame);  /* borrowed */
    if (rec == NULL) {
        if (PyErr_Occurred())
            return NULL;
        return hand_over(self, args);  /* a frame seen for the first time */
    }
    if (Py_TYPE(rec) != self->rec_type)
        return hand_over(self, args);
    PyObject *last = SLOT(rec, self->r_last_line);
    PyObject *stores = SLOT(rec, self->r_stores), *slots = SLOT(rec, self->r_slots);
    if (last == NULL || stores == NULL || slots == NULL || !PyDict_CheckExact(stores)
            || !PyDict_CheckExact(slots))
        return hand_over(self, args);
    Py_INCREF(rec);
    Py_INCREF(last);  /* (held: the line's number is the FrameRec's alone, replaced below) */
    PyObject *name = NULL, *text = NULL, *new_slot = NULL, *result = NULL;
    PyObject *other = NULL;  /* a value set_slot records with no new node (slots_fast) */
    if (last != Py_None) {
        name = PyDict_GetItemWithError(stores, last);  /* borrowed */
        if (name == NULL && PyErr_Occurred())
            goto error;
    }
    /* --- the checks: is the line's store the plain-value case? (nothing changed yet) --- */
    if (name != NULL) {
        if (!PyUnicode_CheckExact(name))
            goto fallback;  /* several variables */
        PyObject *scope = SLOT(rec, self->r_scope), *value;
        if (scope == NULL)
            goto fallback;
        if (PyDict_CheckExact(scope)) {
            if (PyDict_GetItemRef(scope, name, &value) < 0)
                goto error;
        }
        else {
            value = PyObject_GetItem(scope, name);
            if (value == NULL)
                PyErr_Clear();  /* (deleted, or else: the fallback says) */
        }
        if (value == NULL)
            goto fallback;
        PyTypeObject *kind = Py_TYPE(value);
        if (!(kind == &PyLong_Type || kind == &PyBool_Type || kind == &PyFloat_Type || value == Py_None)) {
            /* a str, or a reference to a node already there: the recorder's set_slot in C
               (no node to make, so no object cap to meet: nothing the fallback would catch) */
            int takes = self->slots_fast == NULL ? 0 : slots_fast_takes((SlotsFast *)self->slots_fast, value);
            if (takes <= 0) {
                Py_DECREF(value);
                if (takes < 0)
                    goto error;
                goto fallback;
            }
            other = value;
            goto record;
        }
        if (kind == &PyLong_Type) {  /* a big int: its text is the Python path's (objects.SHORT_INT) */
            int overflow = 0;
            long long small = PyLong_AsLongLongAndOverflow(value, &overflow);
            if (small == -1 && PyErr_Occurred())
                PyErr_Clear();
            if (overflow) {
                Py_DECREF(value);
                goto fallback;
            }
        }
        text = PyObject_Str(value);  /* f"{value}" of these types */
        Py_DECREF(value);
        if (text == NULL)
            goto error;
        if (PyUnicode_GET_LENGTH(text) > self->max_repr)
            goto fallback;
        PyObject *slot = PyDict_GetItemWithError(slots, name);  /* borrowed */
        PyObject *recorder_step = SLOT(self->recorder, self->c_step);
        if (recorder_step == NULL)
            goto fallback;
        if (slot == NULL) {
            if (PyErr_Occurred())
                goto error;
            new_slot = PyTuple_Pack(4, recorder_step, Py_None, text, Py_None);
            if (new_slot == NULL)
                goto error;
        }
        else {
            if (!PyTuple_CheckExact(slot) || PyTuple_GET_SIZE(slot) != 4
                    || PyTuple_GET_ITEM(slot, 1) != Py_None)
                goto fallback;  /* a reference */
            PyObject *start = PyTuple_GET_ITEM(slot, 0), *old = PyTuple_GET_ITEM(slot, 2);
            PyObject *run = PyTuple_GET_ITEM(slot, 3);
            if (run != Py_None && !PyList_CheckExact(run))
                goto fallback;
            int differs = PyObject_RichCompareBool(old, text, Py_NE);
            if (differs < 0)
                goto error;
            if (differs) {
                /* --- from here on the fast path changes the graph --- */
                int before = PyObject_RichCompareBool(start, recorder_step, Py_LT);
                if (before < 0)
                    goto error;
                Py_INCREF(run);  /* (owned from here) */
                if (before) {  /* Recorder._end_interval */
                    if (run == Py_None) {
                        Py_DECREF(run);
                        run = PyList_New(2);
                        if (run == NULL)
                            goto error;
                        PyList_SET_ITEM(run, 0, Py_NewRef(start));
                        PyList_SET_ITEM(run, 1, Py_NewRef(old));
                    }
                    else if (PyList_Append(run, start) < 0 || PyList_Append(run, old) < 0) {
                        Py_DECREF(run);
                        goto error;
                    }
                    else if (PyList_GET_SIZE(run) >= self->run_size) {
                        PyObject *node = SLOT(rec, self->r_node);
                        PyObject *done = node == NULL
                            ? (PyErr_SetString(PyExc_AttributeError, "FrameRec.node"), NULL)
                            : PyObject_CallMethod(self->writer, "slot_run", "OOOO", node, name, run,
                                                  recorder_step);
                        Py_DECREF(run);
                        if (done == NULL)
                            goto error;
                        Py_DECREF(done);
                        run = Py_NewRef(Py_None);
                    }
                }
                new_slot = PyTuple_Pack(4, recorder_step, Py_None, text, run);
                Py_DECREF(run);
                if (new_slot == NULL)
                    goto error;
            }
        }
    }
    /* --- the line is ours: record it --- */
record:
    slot_set(rec, self->r_last_line, Py_NewRef(line));
    if (last != Py_None) {
        if (name != NULL) {
            if (new_slot != NULL && PyDict_SetItem(slots, name, new_slot) < 0)
                goto error;
            if (other != NULL) {
                PyObject *node = SLOT(rec, self->r_node);
                if (node == NULL) {
                    PyErr_SetString(PyExc_AttributeError, "FrameRec.node");
                    goto error;
                }
                if (set_slot((SlotsFast *)self->slots_fast, node, name, other) < 0)
                    goto error;
            }
            PyObject *wide = SLOT(rec, self->r_wide);
            int is_wide = wide == NULL ? 0 : PySet_Contains(wide, last);
            if (is_wide < 0)
                goto error;
            if (is_wide) {  /* frames_dirty = frames_dirty or frames.REREAD_SHARED (1) */
                PyObject *held = SLOT(self->monitor, self->m_frames_dirty);
                int dirty = held == NULL ? 0 : PyObject_IsTrue(held);
                if (dirty < 0)
                    goto error;
                if (!dirty)
                    slot_set(self->monitor, self->m_frames_dirty, PyLong_FromLong(1));
                slot_set(self->monitor, self->m_unsettled, Py_NewRef(Py_True));
            }
        }
        if (PyDict_GET_SIZE(self->later)) {
            PyObject *pending;
            if (PyDict_Pop(self->later, (PyObject *)frame, &pending) < 0)
                goto error;
            if (pending != NULL) {
                PyObject *done = PyObject_CallMethod(self->dirty, "extend", "O", pending);
                Py_DECREF(pending);
                if (done == NULL)
                    goto error;
                Py_DECREF(done);
            }
        }
    }
    if (PyDict_GET_SIZE(self->suspended) && reap_due(self)) {
        PyObject *done = PyObject_CallNoArgs(self->reap);
        if (done == NULL)
            goto error;
        Py_DECREF(done);
    }
    PyObject *changed = SLOT(self->recorder, self->c_changed), *unsettled = SLOT(self->monitor, self->m_unsettled);
    int must = PyList_GET_SIZE(self->dirty) > 0;
    if (!must && changed != NULL && (must = PyObject_IsTrue(changed)) < 0)
        goto error;
    if (!must && unsettled != NULL && (must = PyObject_IsTrue(unsettled)) < 0)
        goto error;
    if (must) {
        PyObject *done = PyObject_CallNoArgs(self->settle);
        if (done == NULL)
            goto error;
        Py_DECREF(done);
    }
    /* a new step (Monitor._new_step) */
    PyObject *old_step = SLOT(self->monitor, self->m_step);
    if (old_step == NULL) {
        PyErr_SetString(PyExc_AttributeError, "Monitor.step");
        goto error;
    }
    long long step = PyLong_AsLongLong(old_step) + 1;
    if (step == 0 && PyErr_Occurred())
        goto error;
    PyObject *step_obj = PyLong_FromLongLong(step);
    if (step_obj == NULL)
        goto error;
    slot_set(self->recorder, self->c_step, Py_NewRef(step_obj));
    slot_set(self->monitor, self->m_step, step_obj);
    PyObject *step_code = SLOT(rec, self->r_step_code);
    unsigned long long code = step_code == NULL ? (unsigned long long)-1 : PyLong_AsUnsignedLongLong(step_code);
    if (code == (unsigned long long)-1 && (step_code == NULL || PyErr_Occurred())) {
        if (!PyErr_Occurred())
            PyErr_SetString(PyExc_AttributeError, "FrameRec.step_code");
        goto error;
    }
    long packed_line = PyLong_AsLong(line);
    if (packed_line == -1 && PyErr_Occurred())
        goto error;
    PyObject *packed = PyLong_FromUnsignedLongLong(code | (unsigned long long)packed_line);
    if (packed == NULL)
        goto error;
    PyObject *done = PyObject_CallOneArg(self->step_append, packed);
    Py_DECREF(packed);
    if (done == NULL)
        goto error;
    Py_DECREF(done);
    PyObject *next_check = SLOT(self->monitor, self->m_next_check);
    long long next = next_check == NULL ? 0 : PyLong_AsLongLong(next_check);
    if (next == -1 && PyErr_Occurred())
        goto error;
    if (step >= next) {
        done = PyObject_CallNoArgs(self->check);
        if (done == NULL)
            goto error;
        Py_DECREF(done);
    }
    result = Py_NewRef(Py_None);
    goto out;
fallback:
    result = hand_over(self, args);
    goto out;
error:
    result = NULL;
out:
    Py_XDECREF(text);
    Py_XDECREF(new_slot);
    Py_XDECREF(other);
    Py_DECREF(last);
    Py_DECREF(rec);
    return result;
}

static PyObject *
LineFast_vectorcall(PyObject *self, PyObject *const *args, size_t nargsf, PyObject *kwnames)
{
    if (kwnames != NULL && PyTuple_GET_SIZE(kwnames)) {
        PyErr_SetString(PyExc_TypeError, "line(code, line) takes no keyword arguments");
        return NULL;
    }
    /* (held while it runs: the monitor lets go of its callback when the trace is cut,
       perhaps in a call made from here) */
    Py_INCREF(self);
    PyObject *result = LineFast_call((LineFast *)self, args, PyVectorcall_NARGS(nargsf));
    Py_DECREF(self);
    return result;
}

/* LineFast with its vectorcall slot (how sys.monitoring calls a callback) */
typedef struct {
    LineFast base;
    vectorcallfunc vectorcall;
} LineFastObject;

static PyObject *
LineFast_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
    LineFastObject *self = (LineFastObject *)type->tp_alloc(type, 0);
    if (self != NULL)
        self->vectorcall = LineFast_vectorcall;
    return (PyObject *)self;
}

static PyMemberDef LineFast_members[] = {
    {"fallback", Py_T_OBJECT_EX, offsetof(LineFast, fallback), Py_READONLY,
     "the pure-Python line_event: every line the fast path leaves"},
    {"__vectorcalloffset__", Py_T_PYSSIZET, offsetof(LineFastObject, vectorcall), Py_READONLY},
    {NULL}
};

static PyType_Slot LineFast_slots[] = {
    {Py_tp_doc, "LineFast(monitor, fallback, rec_type, max_repr, run_size): the LINE callback's "
                "common case in C; every other line goes to `fallback`."},
    {Py_tp_new, LineFast_new},
    {Py_tp_init, LineFast_init},
    {Py_tp_dealloc, LineFast_dealloc},
    {Py_tp_traverse, LineFast_traverse},
    {Py_tp_clear, LineFast_clear},
    {Py_tp_call, PyVectorcall_Call},
    {Py_tp_members, LineFast_members},
    {0, NULL}
};

static PyType_Spec LineFast_spec = {
    .name = "pyrona.tracer._speedups.LineFast",
    .basicsize = sizeof(LineFastObject),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_HAVE_VECTORCALL,
    .slots = LineFast_slots,
};

/* --- build(cls, strings, tabled, *columns): the model's slotted dataclasses in bulk ---
 *
 * A cold read of a 20,000-node step makes about 70,000 Nodes, Edges and Fields from the
 * columns of its GROUP rows (tracer/decoded.py `_built`; its pure-Python twin is the
 * reference). Their frozen __init__ goes through object.__setattr__ per field; here each
 * instance is allocated and its slots stored at their member descriptors' offsets. A
 * column whose bit is set in `tabled` holds indices into the row's list of `strings`.
 * Everything is checked first or as it is read: `cls` is a type whose __slots__ are
 * exactly one object slot per column (no __dict__, no weakref, nothing else to fill),
 * the columns are lists of one length, an index is an int within `strings`. Any other
 * value goes (the dataclasses check none), so no row can crash this. */
#define BUILD_MAX_FIELDS 8

/* The offsets of `cls`'s slots, one per column, or -1 with an error set. */
static int
build_offsets(PyTypeObject *cls, Py_ssize_t fields, Py_ssize_t *offsets)
{
    if (cls->tp_dictoffset != 0 || cls->tp_weaklistoffset != 0 || cls->tp_itemsize != 0
            || cls->tp_alloc == NULL
            || (Py_ssize_t)cls->tp_basicsize != (Py_ssize_t)(sizeof(PyObject) + fields * sizeof(PyObject *))) {
        PyErr_Format(PyExc_TypeError, "build: %s is not a class of exactly %zd object slots",
                     cls->tp_name, fields);
        return -1;
    }
    PyObject *names = PyObject_GetAttrString((PyObject *)cls, "__slots__");
    if (names == NULL)
        return -1;
    if (!PyTuple_Check(names) || PyTuple_GET_SIZE(names) != fields) {
        PyErr_Format(PyExc_TypeError, "build: %s has not %zd __slots__ in a tuple", cls->tp_name, fields);
        Py_DECREF(names);
        return -1;
    }
    for (Py_ssize_t f = 0; f < fields; f++) {
        PyObject *name = PyTuple_GET_ITEM(names, f);
        const char *text = PyUnicode_Check(name) ? PyUnicode_AsUTF8(name) : NULL;
        offsets[f] = text == NULL ? -1 : member_offset(cls, text);
        if (offsets[f] < (Py_ssize_t)sizeof(PyObject)
                || offsets[f] > cls->tp_basicsize - (Py_ssize_t)sizeof(PyObject *)) {
            if (!PyErr_Occurred())
                PyErr_Format(PyExc_TypeError, "build: a __slots__ name of %s is not a slot", cls->tp_name);
            Py_DECREF(names);
            return -1;
        }
    }
    Py_DECREF(names);
    return 0;
}

static PyObject *
build(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs < 4 || nargs - 3 > BUILD_MAX_FIELDS) {
        PyErr_Format(PyExc_TypeError, "build(cls, strings, tabled, *columns) takes 1 to %d columns",
                     BUILD_MAX_FIELDS);
        return NULL;
    }
    if (!PyType_Check(args[0]) || !PyList_CheckExact(args[1]) || !PyLong_CheckExact(args[2])) {
        PyErr_SetString(PyExc_TypeError, "build: cls is not a type, strings not a list or tabled not an int");
        return NULL;
    }
    PyTypeObject *cls = (PyTypeObject *)args[0];
    PyObject *strings = args[1];
    long tabled = PyLong_AsLong(args[2]);
    if (tabled == -1 && PyErr_Occurred())
        return NULL;
    Py_ssize_t fields = nargs - 3;
    PyObject *const *columns = args + 3;
    Py_ssize_t offsets[BUILD_MAX_FIELDS];
    if (build_offsets(cls, fields, offsets) < 0)
        return NULL;
    Py_ssize_t count = -1;
    for (Py_ssize_t f = 0; f < fields; f++) {
        if (!PyList_CheckExact(columns[f])) {
            PyErr_Format(PyExc_TypeError, "build: column %zd is %.100s, not a list", f,
                         Py_TYPE(columns[f])->tp_name);
            return NULL;
        }
        if (count < 0)
            count = PyList_GET_SIZE(columns[f]);
        else if (PyList_GET_SIZE(columns[f]) != count) {
            PyErr_Format(PyExc_ValueError, "build: column %zd has %zd items, column 0 has %zd",
                         f, PyList_GET_SIZE(columns[f]), count);
            return NULL;
        }
    }
    PyObject *out = PyList_New(count);
    if (out == NULL)
        return NULL;
    for (Py_ssize_t k = 0; k < count; k++) {
        PyObject *item = cls->tp_alloc(cls, 0);  /* (zeroed: every slot NULL until stored) */
        if (item == NULL)
            goto error;
        PyList_SET_ITEM(out, k, item);  /* (a half-filled one is dropped with `out`) */
        for (Py_ssize_t f = 0; f < fields; f++) {
            /* (an allocation may collect garbage, and a finalizer run then could change a
               list: lengths are looked at again) */
            if (PyList_GET_SIZE(columns[f]) <= k) {
                PyErr_SetString(PyExc_RuntimeError, "build: a column changed while it was read");
                goto error;
            }
            PyObject *value = PyList_GET_ITEM(columns[f], k);
            if (tabled >> f & 1) {
                Py_ssize_t at = PyLong_CheckExact(value) ? PyLong_AsSsize_t(value) : -1;
                if (at < 0 || at >= PyList_GET_SIZE(strings)) {
                    PyErr_Clear();
                    PyErr_Format(PyExc_ValueError, "build: item %zd of column %zd is not an index of "
                                 "the %zd strings", k, f, PyList_GET_SIZE(strings));
                    goto error;
                }
                value = PyList_GET_ITEM(strings, at);
            }
            SLOT(item, offsets[f]) = Py_NewRef(value);
        }
    }
    return out;
error:
    Py_DECREF(out);
    return NULL;
}

/* ---- group_json: a nodes GROUP row's detail, the JSON text (tracer/store_format.py) ----
 *
 * `group_json(entries, ascii)` returns the very text `store_format.group_detail_py` writes
 * for the same entries (that function is the reference and says what the columns are):
 * the same slots sorted the same way (by list.sort), the same string table numbered in
 * the same order, and the same JSON spelling. With `ascii` false the text is orjson's
 * (non-ASCII characters as they are); with `ascii` true, or where orjson would refuse the
 * value (a lone surrogate), the json module's (everything past '~' escaped). It returns
 * None for anything it does not write the same way (a value that is not an exact int
 * within 64 bits, an exact str, or the expected tuples, lists and dicts): the caller then
 * runs the reference. The entries are read as they are; nothing of them is changed. */

typedef struct {
    char *data;
    Py_ssize_t len, cap;
} JsonBuf;

static int
jb_reserve(JsonBuf *b, Py_ssize_t more)
{
    if (b->len + more <= b->cap)
        return 0;
    Py_ssize_t cap = b->cap ? b->cap : 4096;
    while (cap < b->len + more)
        cap *= 2;
    char *data = PyMem_Realloc(b->data, cap);
    if (data == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    b->data = data;
    b->cap = cap;
    return 0;
}

static inline int
jb_put(JsonBuf *b, const char *text, Py_ssize_t n)
{
    if (jb_reserve(b, n) < 0)
        return -1;
    memcpy(b->data + b->len, text, n);
    b->len += n;
    return 0;
}

static inline int
jb_char(JsonBuf *b, char c)
{
    if (b->len >= b->cap && jb_reserve(b, 1) < 0)
        return -1;
    b->data[b->len++] = c;
    return 0;
}

/* An integer in decimal (snprintf costs more than the rest of a row's writing). */
static inline int
jb_unsigned(JsonBuf *b, unsigned long long v, int negative)
{
    char digits[24];
    char *end = digits + sizeof digits, *at = end;
    do {
        *--at = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    if (negative)
        *--at = '-';
    return jb_put(b, at, end - at);
}

static inline int
jb_index(JsonBuf *b, Py_ssize_t v)
{
    if (v < 10)  /* (most: a row's few texts) */
        return jb_char(b, (char)('0' + v));
    return jb_unsigned(b, (unsigned long long)v, 0);
}

/* What writing a value gave: done, an error set, or "not written the same way here". */
enum { JSON_OK = 0, JSON_ERROR = -1, JSON_UNSUPPORTED = -2, JSON_SURROGATE = -3 };

static int
jb_int(JsonBuf *b, PyObject *value)
{
    if (!PyLong_CheckExact(value))
        return JSON_UNSUPPORTED;  /* (a bool, an int subclass, anything else) */
    if (PyUnstable_Long_IsCompact((PyLongObject *)value)) {  /* (a step, a node: no call) */
        Py_ssize_t small = PyUnstable_Long_CompactValue((PyLongObject *)value);
        return small < 0 ? jb_unsigned(b, 0ULL - (unsigned long long)small, 1)
                         : jb_unsigned(b, (unsigned long long)small, 0);
    }
    int overflow;
    long long v = PyLong_AsLongLongAndOverflow(value, &overflow);
    if (overflow == 0) {
        if (v == -1 && PyErr_Occurred())
            return JSON_ERROR;
        return v < 0 ? jb_unsigned(b, 0ULL - (unsigned long long)v, 1) : jb_unsigned(b, (unsigned long long)v, 0);
    }
    if (overflow > 0) {  /* (orjson writes up to 2**64 - 1 too) */
        unsigned long long u = PyLong_AsUnsignedLongLong(value);
        if (u == (unsigned long long)-1 && PyErr_Occurred()) {
            PyErr_Clear();
            return JSON_UNSUPPORTED;  /* (past 64 bits: the reference decides) */
        }
        return jb_unsigned(b, u, 0);
    }
    return JSON_UNSUPPORTED;
}

static const char HEX[] = "0123456789abcdef";

static inline int
jb_u_escape(JsonBuf *b, Py_UCS4 c)
{
    char esc[6] = {'\\', 'u', HEX[(c >> 12) & 15], HEX[(c >> 8) & 15], HEX[(c >> 4) & 15], HEX[c & 15]};
    return jb_put(b, esc, 6);
}

/* An ASCII character that JSON text escapes ('"', '\\', a control character; DEL too
 * when `ascii`, as the json module writes it, where orjson leaves it as it is). */
static int
jb_escape_ascii(JsonBuf *b, Py_UCS4 c, int ascii)
{
    switch (c) {
    case '"': return jb_put(b, "\\\"", 2);
    case '\\': return jb_put(b, "\\\\", 2);
    case '\n': return jb_put(b, "\\n", 2);
    case '\r': return jb_put(b, "\\r", 2);
    case '\t': return jb_put(b, "\\t", 2);
    case '\b': return jb_put(b, "\\b", 2);
    case '\f': return jb_put(b, "\\f", 2);
    default: return c == 0x7f && !ascii ? jb_char(b, 0x7f) : jb_u_escape(b, c);
    }
}

/* A str as JSON: the json module's escapes for '"', '\\' and control characters (both
 * writers spell them alike); past '~', UTF-8 (orjson) or \u escapes (`ascii`, json). */
static int
jb_str(JsonBuf *b, PyObject *value, int ascii)
{
    if (!PyUnicode_CheckExact(value))
        return JSON_UNSUPPORTED;
    Py_ssize_t n = PyUnicode_GET_LENGTH(value);
    int kind = PyUnicode_KIND(value);
    const void *data = PyUnicode_DATA(value);
    if (jb_reserve(b, n + 2) < 0)
        return JSON_ERROR;
    b->data[b->len++] = '"';
    if (PyUnicode_IS_ASCII(value)) {  /* (most texts: copied in runs between escapes) */
        const char *text = (const char *)data;
        Py_ssize_t from = 0;
        for (Py_ssize_t i = 0; i < n; i++) {
            unsigned char c = (unsigned char)text[i];
            if (c >= 0x20 && c != '"' && c != '\\' && (c != 0x7f || !ascii))
                continue;
            if (jb_put(b, text + from, i - from) < 0)
                return JSON_ERROR;
            from = i + 1;
            int err = jb_escape_ascii(b, c, ascii);
            if (err < 0)
                return JSON_ERROR;
        }
        if (jb_put(b, text + from, n - from) < 0)
            return JSON_ERROR;
        return jb_char(b, '"');
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        Py_UCS4 c = PyUnicode_READ(kind, data, i);
        int err = 0;
        if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\')
            err = jb_char(b, (char)c);
        else if (c < 0x80)
            err = jb_escape_ascii(b, c, ascii);
        else if (ascii) {
            if (c > 0xffff) {  /* (a surrogate pair, as json writes one) */
                Py_UCS4 v = c - 0x10000;
                err = jb_u_escape(b, 0xd800 | (v >> 10));
                if (err == 0)
                    err = jb_u_escape(b, 0xdc00 | (v & 0x3ff));
            }
            else
                err = jb_u_escape(b, c);
        }
        else if (c >= 0xd800 && c <= 0xdfff)
            return JSON_SURROGATE;  /* (orjson refuses one: the reference writes by json) */
        else {
            char utf8[4];
            int len;
            if (c < 0x800) {
                utf8[0] = (char)(0xc0 | (c >> 6));
                utf8[1] = (char)(0x80 | (c & 0x3f));
                len = 2;
            }
            else if (c < 0x10000) {
                utf8[0] = (char)(0xe0 | (c >> 12));
                utf8[1] = (char)(0x80 | ((c >> 6) & 0x3f));
                utf8[2] = (char)(0x80 | (c & 0x3f));
                len = 3;
            }
            else {
                utf8[0] = (char)(0xf0 | (c >> 18));
                utf8[1] = (char)(0x80 | ((c >> 12) & 0x3f));
                utf8[2] = (char)(0x80 | ((c >> 6) & 0x3f));
                utf8[3] = (char)(0x80 | (c & 0x3f));
                len = 4;
            }
            err = jb_put(b, utf8, len);
        }
        if (err < 0)
            return JSON_ERROR;
    }
    return jb_char(b, '"');
}

/* A value of a run or a non-tabled column: an int or a str. */
static int
jb_value(JsonBuf *b, PyObject *value, int ascii)
{
    if (PyLong_CheckExact(value))
        return jb_int(b, value);
    return jb_str(b, value, ascii);
}

/* The index of `text` in the row's string table, added (numbered as it comes) if new; -1
 * with an error set, or -2 for a text that is not an exact str (the reference decides). */
static Py_ssize_t
table_index(PyObject *strings, PyObject *text)
{
    if (!PyUnicode_CheckExact(text))
        return -2;
    PyObject *known = PyDict_GetItemWithError(strings, text);
    if (known != NULL)
        return PyLong_AsSsize_t(known);
    if (PyErr_Occurred())
        return -1;
    Py_ssize_t index = PyDict_GET_SIZE(strings);
    PyObject *number = PyLong_FromSsize_t(index);
    if (number == NULL)
        return -1;
    int err = PyDict_SetItem(strings, text, number);
    Py_DECREF(number);
    return err < 0 ? -1 : index;
}

#define GROUP_NODE_FIELDS 8  /* (node, start, end, kind, type, place, label, detail), then slots */
#define GROUP_TABLED_FROM 3  /* kind .. detail: indices into the string table */

/* A slot of the row, as the reference sorts it: the tuple (owner, name, held, end, at,
 * number), compared the same way (`slot_order`): `held` a dst (an int, an edge's) or a
 * text (a str, a field's); `number` the run's among the row's runs, or -1. `names` and
 * `helds` are filled in later with their indices in the string table. */
typedef struct {
    long long owner, dst, end, at;
    PyObject *name, *text, *run;  /* (borrowed: the entries hold them) */
    Py_ssize_t number, name_at, text_at;
} GroupSlot;

typedef struct {
    GroupSlot *items;
    Py_ssize_t len, cap;
} GroupSlots;

static GroupSlot *
slots_add(GroupSlots *s)
{
    if (s->len == s->cap) {
        Py_ssize_t cap = s->cap ? 2 * s->cap : 64;
        GroupSlot *items = PyMem_Realloc(s->items, cap * sizeof(GroupSlot));
        if (items == NULL) {
            PyErr_NoMemory();
            return NULL;
        }
        s->items = items;
        s->cap = cap;
    }
    return &s->items[s->len++];
}

#define ORDER(a, b) ((a) < (b) ? -1 : (a) > (b) ? 1 : 0)

/* Python's order of the two tuples (for exact ints and strs: no Python code runs, no
 * error: PyUnicode_Compare of two strs cannot fail). */
static int
slot_order(const void *left, const void *right)
{
    const GroupSlot *a = left, *b = right;
    int c = ORDER(a->owner, b->owner);
    if (c)
        return c;
    if (a->name != b->name && (c = PyUnicode_Compare(a->name, b->name)) != 0)
        return c;
    if (a->text != NULL) {
        if (a->text != b->text && (c = PyUnicode_Compare(a->text, b->text)) != 0)
            return c;
    }
    else if ((c = ORDER(a->dst, b->dst)) != 0)
        return c;
    if ((c = ORDER(a->end, b->end)) != 0)
        return c;
    if ((c = ORDER(a->at, b->at)) != 0)
        return c;
    return ORDER(a->number, b->number);
}

/* An exact int within a long long, or 0 with `*ok` cleared (the reference decides). */
static long long
exact_int(PyObject *value, int *ok)
{
    if (!PyLong_CheckExact(value)) {
        *ok = 0;
        return 0;
    }
    if (PyUnstable_Long_IsCompact((PyLongObject *)value))
        return PyUnstable_Long_CompactValue((PyLongObject *)value);
    int overflow;
    long long v = PyLong_AsLongLongAndOverflow(value, &overflow);
    if (overflow || (v == -1 && PyErr_Occurred())) {
        PyErr_Clear();
        *ok = 0;
    }
    return v;
}

static inline int
jb_long(JsonBuf *b, long long v)
{
    return v < 0 ? jb_unsigned(b, 0ULL - (unsigned long long)v, 1) : jb_unsigned(b, (unsigned long long)v, 0);
}

/* The columns [owners, names, helds, ats, ends, runs] of sorted slots (see the reference's
 * `_slot_columns`): names, and a field's texts, as indices into the string table. */
static int
jb_slot_columns(JsonBuf *b, const GroupSlots *s, int ascii)
{
    Py_ssize_t n = s->len;
    const GroupSlot *items = s->items;
    int err = 0;
    for (int column = 0; column < 5; column++) {
        if (jb_put(b, column ? ",[" : "[[", 2) < 0)
            return JSON_ERROR;
        for (Py_ssize_t k = 0; k < n && err == 0; k++) {
            const GroupSlot *slot = &items[k];
            if (k && jb_char(b, ',') < 0)
                return JSON_ERROR;
            switch (column) {
            case 0: err = jb_long(b, slot->owner); break;
            case 1: err = jb_index(b, slot->name_at); break;
            case 2: err = slot->text != NULL ? jb_index(b, slot->text_at) : jb_long(b, slot->dst); break;
            case 3: err = jb_long(b, slot->at); break;  /* (ats before ends, as the reference) */
            default: err = jb_long(b, slot->end);
            }
        }
        if (err < 0 || jb_char(b, ']') < 0)
            return err < 0 ? err : JSON_ERROR;
    }
    if (jb_put(b, ",[", 2) < 0)
        return JSON_ERROR;
    int first = 1;
    for (Py_ssize_t k = 0; k < n; k++) {
        PyObject *run = items[k].run;
        if (run == NULL)
            continue;
        if ((!first && jb_char(b, ',') < 0) || jb_char(b, '[') < 0 || jb_index(b, k) < 0)
            return JSON_ERROR;
        first = 0;
        for (Py_ssize_t i = 0; i < PyList_GET_SIZE(run); i++) {
            err = jb_char(b, ',');
            if (err == 0)
                err = jb_value(b, PyList_GET_ITEM(run, i), ascii);
            if (err < 0)
                return err;
        }
        if (jb_char(b, ']') < 0)
            return JSON_ERROR;
    }
    return jb_put(b, "]]", 2);
}

/* The whole text, once the slots are sorted and the texts numbered. */
static int
jb_group(JsonBuf *b, PyObject *entries, PyObject *strings, const Py_ssize_t *node_index,
         const GroupSlots *edges, const GroupSlots *fields, int ascii)
{
    Py_ssize_t count = PyList_GET_SIZE(entries), pos = 0;
    PyObject *text, *number;
    int err;
    if (jb_put(b, "[[", 2) < 0)
        return JSON_ERROR;
    for (Py_ssize_t i = 0; PyDict_Next(strings, &pos, &text, &number); i++) {
        if (i && jb_char(b, ',') < 0)
            return JSON_ERROR;
        if ((err = jb_str(b, text, ascii)) < 0)
            return err;
    }
    if (jb_put(b, "],[", 3) < 0)
        return JSON_ERROR;
    for (int f = 0; f < GROUP_NODE_FIELDS; f++) {
        if ((f && jb_char(b, ',') < 0) || jb_char(b, '[') < 0)
            return JSON_ERROR;
        for (Py_ssize_t k = 0; k < count; k++) {
            if (k && jb_char(b, ',') < 0)
                return JSON_ERROR;
            if (f >= GROUP_TABLED_FROM)
                err = jb_index(b, node_index[k * (GROUP_NODE_FIELDS - GROUP_TABLED_FROM) + f - GROUP_TABLED_FROM]);
            else
                err = jb_int(b, PyTuple_GET_ITEM(PyList_GET_ITEM(entries, k), f));
            if (err < 0)
                return err;
        }
        if (jb_char(b, ']') < 0)
            return JSON_ERROR;
    }
    if (jb_put(b, "],", 2) < 0)
        return JSON_ERROR;
    if ((err = jb_slot_columns(b, edges, ascii)) < 0)
        return err;
    if (jb_char(b, ',') < 0)
        return JSON_ERROR;
    if ((err = jb_slot_columns(b, fields, ascii)) < 0)
        return err;
    return jb_char(b, ']');
}

static PyObject *
group_json(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 2 || !PyList_CheckExact(args[0])) {
        PyErr_SetString(PyExc_TypeError, "group_json(entries: list, ascii: bool)");
        return NULL;
    }
    PyObject *entries = args[0];
    int ascii = PyObject_IsTrue(args[1]);
    if (ascii < 0)
        return NULL;
    PyObject *result = NULL, *strings = PyDict_New();
    Py_ssize_t *node_index = NULL, runs = 0;
    GroupSlots edges = {NULL, 0, 0}, fields = {NULL, 0, 0};
    JsonBuf b = {NULL, 0, 0};
    Py_ssize_t count = PyList_GET_SIZE(entries);
    if (strings == NULL)
        goto done;
    /* the slots, as the reference collects them (checked as they come) */
    for (Py_ssize_t k = 0; k < count; k++) {
        PyObject *entry = PyList_GET_ITEM(entries, k);
        if (!PyTuple_CheckExact(entry) || PyTuple_GET_SIZE(entry) != GROUP_NODE_FIELDS + 1
                || !PyDict_CheckExact(PyTuple_GET_ITEM(entry, GROUP_NODE_FIELDS)))
            goto unsupported;
        int ok = 1;
        long long owner = exact_int(PyTuple_GET_ITEM(entry, 0), &ok);
        long long end = exact_int(PyTuple_GET_ITEM(entry, 2), &ok);
        PyObject *name, *value;
        Py_ssize_t pos = 0;
        while (ok && PyDict_Next(PyTuple_GET_ITEM(entry, GROUP_NODE_FIELDS), &pos, &name, &value)) {
            if (!PyTuple_CheckExact(value) || PyTuple_GET_SIZE(value) != 4 || !PyUnicode_CheckExact(name))
                goto unsupported;
            PyObject *dst = PyTuple_GET_ITEM(value, 1), *text = PyTuple_GET_ITEM(value, 2);
            PyObject *run = PyTuple_GET_ITEM(value, 3);
            if (run != Py_None && !PyList_CheckExact(run))
                goto unsupported;
            GroupSlot *slot = slots_add(dst != Py_None ? &edges : &fields);
            if (slot == NULL)
                goto done;
            slot->owner = owner;
            slot->end = end;
            slot->name = name;
            slot->at = exact_int(PyTuple_GET_ITEM(value, 0), &ok);
            if (dst != Py_None) {
                slot->dst = exact_int(dst, &ok);
                slot->text = NULL;
            }
            else if (PyUnicode_CheckExact(text))
                slot->text = text;
            else
                goto unsupported;
            if (run != Py_None && PyList_GET_SIZE(run)) {  /* (an empty run: none, as `if run`) */
                slot->run = run;
                slot->number = runs++;
            }
            else {
                slot->run = NULL;
                slot->number = -1;
            }
        }
        if (!ok)
            goto unsupported;
    }
    qsort(edges.items, edges.len, sizeof(GroupSlot), slot_order);
    qsort(fields.items, fields.len, sizeof(GroupSlot), slot_order);
    /* the texts numbered in the reference's order: the nodes' columns one after the
       other, then the edges' names, then the fields' names and values */
    Py_ssize_t per_node = GROUP_NODE_FIELDS - GROUP_TABLED_FROM;
    node_index = PyMem_Malloc(sizeof(Py_ssize_t) * (count * per_node + 1));
    if (node_index == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    for (Py_ssize_t f = GROUP_TABLED_FROM; f < GROUP_NODE_FIELDS; f++) {
        for (Py_ssize_t k = 0; k < count; k++) {
            Py_ssize_t at = table_index(strings, PyTuple_GET_ITEM(PyList_GET_ITEM(entries, k), f));
            if (at < 0)
                goto failed;
            node_index[k * per_node + f - GROUP_TABLED_FROM] = at;
        }
    }
    for (Py_ssize_t k = 0; k < edges.len; k++) {
        if ((edges.items[k].name_at = table_index(strings, edges.items[k].name)) < 0)
            goto failed;
    }
    for (Py_ssize_t k = 0; k < fields.len; k++) {
        if ((fields.items[k].name_at = table_index(strings, fields.items[k].name)) < 0)
            goto failed;
    }
    for (Py_ssize_t k = 0; k < fields.len; k++) {
        if ((fields.items[k].text_at = table_index(strings, fields.items[k].text)) < 0)
            goto failed;
    }
    int err = jb_group(&b, entries, strings, node_index, &edges, &fields, ascii);
    if (err == JSON_SURROGATE) {  /* (as the reference: the json module's text then) */
        b.len = 0;
        err = jb_group(&b, entries, strings, node_index, &edges, &fields, 1);
    }
    if (err == JSON_UNSUPPORTED)
        goto unsupported;
    if (err == JSON_OK)
        result = PyUnicode_DecodeUTF8(b.data, b.len, NULL);
    goto done;
failed:
    if (PyErr_Occurred())
        goto done;
unsupported:
    result = Py_NewRef(Py_None);
done:
    PyMem_Free(b.data);
    PyMem_Free(node_index);
    PyMem_Free(edges.items);
    PyMem_Free(fields.items);
    Py_XDECREF(strings);
    return result;
}

/* generator_of(frame): the generator, coroutine or async generator that owns `frame`
 * (CPython's own PyFrame_GetGenerator), or None for any other frame. CPython 3.13 has no
 * Python-level way from a generator's frame to its generator (3.14 adds f_generator);
 * the monitor needs it to watch a suspended generator with a weak reference. */
static PyObject *
generator_of(PyObject *Py_UNUSED(module), PyObject *frame)
{
    if (!PyFrame_Check(frame)) {
        PyErr_Format(PyExc_TypeError, "generator_of() takes a frame, not %.100s",
                     Py_TYPE(frame)->tp_name);
        return NULL;
    }
    PyObject *generator = PyFrame_GetGenerator((PyFrameObject *)frame);
    return generator != NULL ? generator : Py_NewRef(Py_None);
}

/* --- SlotsFast: Recorder.set_slot, and the store hints the monitor applies, in C ---
 *
 * `SlotsFast(recorder, inline_types, tail, max_repr, run_size)` gives a recorder two callables,
 * `set_slot(nid, name, value)` and `apply_hints(dirty)`, in place of its pure-Python
 * `set_slot_py` and `apply_hints_py` (tracer/recorder.py, the reference). An attribute
 * store runs some five Python calls from the hook's note to the new slot (the monitor's
 * loop, `apply_hint`, `set_slot`, `_end_interval`); here it is one C loop. They do the
 * same steps in the same order for the common cases: a plain value whose text is its
 * repr (a number, a bool, None, a str), a reference to a node, an instance's attribute
 * found in its __dict__. Any other case is handed to the reference before anything
 * changed (another inline value, another hint, a type with its own __getattribute__),
 * and what is rare inside a common case calls the recorder's own methods (`node` for a
 * new object, `_unref`, the writer's `slot_run`), so both record the same rows. */
struct SlotsFast {
    PyObject_HEAD
    PyObject *recorder;
    PyObject *inline_types;  /* objects.INLINE_TYPES */
    PyObject *tail;  /* hooks.TAIL */
    Py_ssize_t max_repr, run_size;
    /* the names this code needs, interned once */
    PyObject *s_attr, *s_item, *s_instance, *s_list, *s_dict_kind, *s_local, *s_dict, *s_node, *s_unref, *s_slot_run,
             *s_set_slot_py, *s_apply_hint, *s_owner_of;
    /* offsets of Recorder's slots */
    Py_ssize_t o_writer, o_step, o_ids, o_objs, o_nodes, o_slots, o_inrefs, o_lrc, o_attr_dicts, o_lengths,
               o_dict_types, o_changed, o_regions_dirty;
    PyObject *item_names;  /* "[0]", "[1]"...: the first ITEM_NAMES of scan_items's slot names */
};

/* A node's fields (recorder.NODE_KIND, NODE_PLACE) and a slot's (recorder.SLOT_*) */
enum { NODE_KIND = 1, NODE_PLACE = 3 };
enum { SLOT_START = 0, SLOT_DST = 1, SLOT_TEXT = 2, SLOT_RUN = 3 };

static int
SlotsFast_init(SlotsFast *self, PyObject *args, PyObject *kwds)
{
    PyObject *recorder, *inline_types, *tail;
    Py_ssize_t max_repr, run_size;
    static char *kwlist[] = {"recorder", "inline_types", "tail", "max_repr", "run_size", NULL};
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "OO!Onn", kwlist, &recorder, &PyFrozenSet_Type,
                                     &inline_types, &tail, &max_repr, &run_size))
        return -1;
    if (self->recorder != NULL) {
        PyErr_SetString(PyExc_TypeError, "SlotsFast is initialised once");
        return -1;
    }
    if (max_repr < 2) {
        PyErr_SetString(PyExc_ValueError, "max_repr < 2");
        return -1;
    }
    self->recorder = Py_NewRef(recorder);
    self->inline_types = Py_NewRef(inline_types);
    self->tail = Py_NewRef(tail);
    self->max_repr = max_repr;
    self->run_size = run_size;
    if ((self->s_attr = PyUnicode_InternFromString("attr")) == NULL
            || (self->s_item = PyUnicode_InternFromString("item")) == NULL
            || (self->s_list = PyUnicode_InternFromString("list")) == NULL
            || (self->s_dict_kind = PyUnicode_InternFromString("dict")) == NULL
            || (self->s_instance = PyUnicode_InternFromString("instance")) == NULL
            || (self->s_local = PyUnicode_InternFromString("local")) == NULL
            || (self->s_dict = PyUnicode_InternFromString("__dict__")) == NULL
            || (self->s_node = PyUnicode_InternFromString("node")) == NULL
            || (self->s_unref = PyUnicode_InternFromString("_unref")) == NULL
            || (self->s_slot_run = PyUnicode_InternFromString("slot_run")) == NULL
            || (self->s_set_slot_py = PyUnicode_InternFromString("set_slot_py")) == NULL
            || (self->s_apply_hint = PyUnicode_InternFromString("apply_hint")) == NULL
            || (self->s_owner_of = PyUnicode_InternFromString("owner_of")) == NULL)
        return -1;
    PyTypeObject *rt = Py_TYPE(recorder);
    if ((self->o_writer = member_offset(rt, "writer")) < 0
            || (self->o_step = member_offset(rt, "step")) < 0
            || (self->o_ids = member_offset(rt, "ids")) < 0
            || (self->o_objs = member_offset(rt, "objs")) < 0
            || (self->o_nodes = member_offset(rt, "nodes")) < 0
            || (self->o_slots = member_offset(rt, "slots")) < 0
            || (self->o_inrefs = member_offset(rt, "inrefs")) < 0
            || (self->o_lrc = member_offset(rt, "lrc")) < 0
            || (self->o_attr_dicts = member_offset(rt, "attr_dicts")) < 0
            || (self->o_lengths = member_offset(rt, "lengths")) < 0
            || (self->o_dict_types = member_offset(rt, "dict_types")) < 0
            || (self->o_changed = member_offset(rt, "changed")) < 0
            || (self->o_regions_dirty = member_offset(rt, "regions_dirty")) < 0)
        return -1;
    return 0;
}

static int
SlotsFast_traverse(SlotsFast *self, visitproc visit, void *arg)
{
    Py_VISIT(self->recorder);
    Py_VISIT(self->inline_types);
    Py_VISIT(self->tail);
    Py_VISIT(self->item_names);
    return 0;
}

static int
SlotsFast_clear(SlotsFast *self)
{
    Py_CLEAR(self->item_names);
    Py_CLEAR(self->recorder);
    Py_CLEAR(self->inline_types);
    Py_CLEAR(self->tail);
    return 0;
}

static void
SlotsFast_dealloc(SlotsFast *self)
{
    PyObject_GC_UnTrack(self);
    SlotsFast_clear(self);
    Py_CLEAR(self->s_attr); Py_CLEAR(self->s_item); Py_CLEAR(self->s_list); Py_CLEAR(self->s_dict_kind);
    Py_CLEAR(self->s_instance); Py_CLEAR(self->s_local); Py_CLEAR(self->s_dict);
    Py_CLEAR(self->s_node); Py_CLEAR(self->s_unref); Py_CLEAR(self->s_slot_run);
    Py_CLEAR(self->s_set_slot_py); Py_CLEAR(self->s_apply_hint); Py_CLEAR(self->s_owner_of);
    PyTypeObject *type = Py_TYPE(self);
    type->tp_free((PyObject *)self);
    Py_DECREF(type);
}

/* A dict of the recorder's (a __slots__ attribute read at its offset; borrowed). */
static PyObject *
recorder_dict(SlotsFast *self, Py_ssize_t offset, const char *name)
{
    PyObject *found = self->recorder == NULL ? NULL : SLOT(self->recorder, offset);
    if (found == NULL || !PyDict_CheckExact(found)) {
        PyErr_Format(PyExc_TypeError, "Recorder.%s is not a dict", name);
        return NULL;
    }
    return found;
}

/* `recorder.<method>(*args)`: the reference's own steps, for what is rare here. */
static PyObject *
call_recorder(SlotsFast *self, PyObject *method, PyObject *a, PyObject *b, PyObject *c)
{
    PyObject *args[4] = {self->recorder, a, b, c};
    size_t nargs = 1 + (a != NULL) + (b != NULL) + (c != NULL);
    return PyObject_VectorcallMethod(method, args, nargs, NULL);
}

static int
call_recorder_void(SlotsFast *self, PyObject *method, PyObject *a, PyObject *b, PyObject *c)
{
    PyObject *done = call_recorder(self, method, a, b, c);
    if (done == NULL)
        return -1;
    Py_DECREF(done);
    return 0;
}

/* objects.is_inline for a tuple or a frozenset (1 drawn as text, 0 a reference, -1 an
 * error): at most 8 items, each of an inline type (exactly: a subclass is a node). Only
 * types are looked at, so no code of the program runs. */
static int
small_inline_collection(SlotsFast *self, PyObject *value)
{
    if (PyTuple_CheckExact(value)) {
        Py_ssize_t size = PyTuple_GET_SIZE(value);
        if (size > 8)
            return 0;
        for (Py_ssize_t i = 0; i < size; i++) {
            int inline_type = PySet_Contains(self->inline_types, (PyObject *)Py_TYPE(PyTuple_GET_ITEM(value, i)));
            if (inline_type <= 0)
                return inline_type;
        }
        return 1;
    }
    if (PySet_GET_SIZE(value) > 8)
        return 0;
    PyObject *items = PyObject_GetIter(value), *item;
    if (items == NULL)
        return -1;
    int result = 1;
    while (result > 0 && (item = PyIter_Next(items)) != NULL) {
        result = PySet_Contains(self->inline_types, (PyObject *)Py_TYPE(item));
        Py_DECREF(item);
    }
    Py_DECREF(items);
    return result > 0 && PyErr_Occurred() ? -1 : result;
}

/* What set_slot draws `value` as: 0 a text (*text, new), 1 a reference (a node, a tuple of
 * objects among them), 2 another inline value (a big int, a tuple of numbers...: the
 * reference writes its text), -1 an error. */
static int
value_text(SlotsFast *self, PyObject *value, PyObject **text)
{
    PyTypeObject *kind = Py_TYPE(value);
    *text = NULL;
    if (kind == &PyLong_Type) {
        /* an int within a long long is within objects.SHORT_INT (10**(MAX_REPR-1)) */
        int overflow = 0;
        long long small = PyLong_AsLongLongAndOverflow(value, &overflow);
        if (small == -1 && PyErr_Occurred())
            return -1;
        if (overflow || self->max_repr < 20)
            return 2;
    }
    else if (!(kind == &PyBool_Type || kind == &PyFloat_Type || value == Py_None)) {
        if (kind != &PyUnicode_Type) {
            if (kind == &PyTuple_Type || kind == &PyFrozenSet_Type) {
                int drawn = small_inline_collection(self, value);
                return drawn < 0 ? -1 : drawn ? 2 : 1;
            }
            int inline_type = PySet_Contains(self->inline_types, (PyObject *)kind);
            return inline_type < 0 ? -1 : inline_type ? 2 : 1;
        }
        /* a str: objects.short_repr, its repr cut to MAX_REPR with an ellipsis */
        PyObject *full = PyObject_Repr(value);
        if (full == NULL)
            return -1;
        if (PyUnicode_GET_LENGTH(full) <= self->max_repr) {
            *text = full;
            return 0;
        }
        PyObject *head = PyUnicode_Substring(full, 0, self->max_repr - 1);
        Py_DECREF(full);
        if (head == NULL)
            return -1;
        PyObject *ellipsis = PyUnicode_FromOrdinal(0x2026);
        if (ellipsis == NULL) {
            Py_DECREF(head);
            return -1;
        }
        *text = PyUnicode_Concat(head, ellipsis);
        Py_DECREF(head);
        Py_DECREF(ellipsis);
        return *text == NULL ? -1 : 0;
    }
    *text = PyObject_Repr(value);  /* (an int, a bool, a float, None: never over MAX_REPR) */
    return *text == NULL ? -1 : 0;
}

/* Recorder._end_interval(nid, name, slot, keep_run=True): the run to go on with (new). */
static PyObject *
end_interval(SlotsFast *self, PyObject *nid, PyObject *name, PyObject *slot, PyObject *step)
{
    PyObject *start = PyTuple_GET_ITEM(slot, SLOT_START), *dst = PyTuple_GET_ITEM(slot, SLOT_DST);
    PyObject *run = PyTuple_GET_ITEM(slot, SLOT_RUN);
    PyObject *held = dst == Py_None ? PyTuple_GET_ITEM(slot, SLOT_TEXT) : dst;
    int before = PyObject_RichCompareBool(start, step, Py_LT);
    if (before < 0)
        return NULL;
    if (!before)
        return Py_NewRef(run);
    if (run == Py_None) {
        PyObject *fresh = PyList_New(2);
        if (fresh != NULL) {
            PyList_SET_ITEM(fresh, 0, Py_NewRef(start));
            PyList_SET_ITEM(fresh, 1, Py_NewRef(held));
        }
        return fresh;
    }
    if (!PyList_CheckExact(run)) {
        PyErr_SetString(PyExc_TypeError, "a slot's run is a list or None");
        return NULL;
    }
    if (PyList_Append(run, start) < 0 || PyList_Append(run, held) < 0)
        return NULL;
    if (PyList_GET_SIZE(run) < self->run_size)
        return Py_NewRef(run);
    PyObject *writer = SLOT(self->recorder, self->o_writer);
    if (writer == NULL) {
        PyErr_SetString(PyExc_AttributeError, "Recorder.writer");
        return NULL;
    }
    PyObject *args[5] = {writer, nid, name, run, step};
    PyObject *done = PyObject_VectorcallMethod(self->s_slot_run, args, 5, NULL);
    if (done == NULL)
        return NULL;
    Py_DECREF(done);
    return Py_NewRef(Py_None);
}

/* The node of `value`: ids[id(value)], or `recorder.node(value)` for a new one (new ref). */
static PyObject *
node_of(SlotsFast *self, PyObject *value)
{
    PyObject *ids = recorder_dict(self, self->o_ids, "ids");
    if (ids == NULL)
        return NULL;
    PyObject *key = PyLong_FromVoidPtr(value);
    if (key == NULL)
        return NULL;
    PyObject *dst;
    int found = PyDict_GetItemRef(ids, key, &dst);
    Py_DECREF(key);
    if (found < 0)
        return NULL;
    return found ? dst : call_recorder(self, self->s_node, value, NULL, NULL);
}

/* A count one more (1 for none: NULL). */
static PyObject *
plus_one(PyObject *count)
{
    if (count == NULL)
        return PyLong_FromLong(1);
    long long was = PyLong_AsLongLong(count);
    if (was == -1 && PyErr_Occurred())
        return NULL;
    return PyLong_FromLongLong(was + 1);
}

/* Whether set_slot records `value` without a new node (1): a value drawn as its repr, or a
 * reference to a node already there. 0: another inline value, or a new object. */
static int
slots_fast_takes(SlotsFast *self, PyObject *value)
{
    PyObject *text;
    int what = value_text(self, value, &text);
    Py_XDECREF(text);
    if (what != 1)
        return what == 0 ? 1 : what < 0 ? -1 : 0;
    PyObject *ids = recorder_dict(self, self->o_ids, "ids");
    if (ids == NULL)
        return -1;
    PyObject *key = PyLong_FromVoidPtr(value);
    if (key == NULL)
        return -1;
    int known = PyDict_Contains(ids, key);
    Py_DECREF(key);
    return known;
}

/* inrefs[dst][nid] += 1, and a borrow counted when a local node refers into a region. */
static int
add_ref(SlotsFast *self, PyObject *nid, PyObject *dst)
{
    PyObject *inrefs = recorder_dict(self, self->o_inrefs, "inrefs");
    PyObject *nodes = recorder_dict(self, self->o_nodes, "nodes");
    if (inrefs == NULL || nodes == NULL)
        return -1;
    PyObject *refs = PyDict_GetItemWithError(inrefs, dst);  /* borrowed */
    if (refs == NULL || !PyDict_CheckExact(refs)) {
        if (!PyErr_Occurred())
            PyErr_SetObject(PyExc_KeyError, dst);
        return -1;
    }
    PyObject *count;
    if (PyDict_GetItemRef(refs, nid, &count) < 0)
        return -1;
    PyObject *more = plus_one(count);
    Py_XDECREF(count);
    if (more == NULL)
        return -1;
    int failed = PyDict_SetItem(refs, nid, more);
    Py_DECREF(more);
    if (failed)
        return -1;
    PyObject *node = PyDict_GetItemWithError(nodes, dst);
    if (node == NULL || !PyTuple_CheckExact(node) || PyTuple_GET_SIZE(node) <= NODE_PLACE) {
        if (!PyErr_Occurred())
            PyErr_SetObject(PyExc_KeyError, dst);
        return -1;
    }
    PyObject *place = PyTuple_GET_ITEM(node, NODE_PLACE);
    if (!PyUnicode_Check(place) || PyUnicode_GET_LENGTH(place) == 0)
        return 0;
    if (PyUnicode_READ_CHAR(place, 0) != 'r')
        return 0;
    /* a reference into region r<rid> */
    slot_set(self->recorder, self->o_regions_dirty, Py_NewRef(Py_True));
    PyObject *src = PyDict_GetItemWithError(nodes, nid);
    if (src == NULL || !PyTuple_CheckExact(src) || PyTuple_GET_SIZE(src) <= NODE_PLACE) {
        if (!PyErr_Occurred())
            PyErr_SetObject(PyExc_KeyError, nid);
        return -1;
    }
    int local = PyObject_RichCompareBool(PyTuple_GET_ITEM(src, NODE_PLACE), self->s_local, Py_EQ);
    if (local <= 0)
        return local;
    PyObject *lrc = recorder_dict(self, self->o_lrc, "lrc");
    if (lrc == NULL)
        return -1;
    PyObject *digits = PyUnicode_Substring(place, 1, PyUnicode_GET_LENGTH(place));
    if (digits == NULL)
        return -1;
    PyObject *rid = PyLong_FromUnicodeObject(digits, 10);
    Py_DECREF(digits);
    if (rid == NULL)
        return -1;
    PyObject *borrows;
    if (PyDict_GetItemRef(lrc, rid, &borrows) < 0) {
        Py_DECREF(rid);
        return -1;
    }
    more = plus_one(borrows);
    Py_XDECREF(borrows);
    failed = more == NULL || PyDict_SetItem(lrc, rid, more) < 0;
    Py_XDECREF(more);
    Py_DECREF(rid);
    return failed ? -1 : 0;
}

/* slots[name] = (step, dst, text, run), the recorder's step read now. */
static int
put_slot(SlotsFast *self, PyObject *slots, PyObject *name, PyObject *dst, PyObject *text, PyObject *run)
{
    PyObject *step = SLOT(self->recorder, self->o_step);
    if (step == NULL) {
        PyErr_SetString(PyExc_AttributeError, "Recorder.step");
        return -1;
    }
    PyObject *slot = PyTuple_Pack(4, step, dst, text, run);
    if (slot == NULL)
        return -1;
    int failed = PyDict_SetItem(slots, name, slot);
    Py_DECREF(slot);
    return failed;
}

/* Recorder.set_slot_py: slot `name` of node `nid` now holds `value`. */
static int
set_slot(SlotsFast *self, PyObject *nid, PyObject *name, PyObject *value)
{
    PyObject *all = recorder_dict(self, self->o_slots, "slots");
    if (all == NULL)
        return -1;
    PyObject *slots, *slot = NULL, *text = NULL, *dst = NULL, *run = NULL;
    if (PyDict_GetItemRef(all, nid, &slots) <= 0) {
        if (!PyErr_Occurred())
            PyErr_SetObject(PyExc_KeyError, nid);
        return -1;
    }
    int result = -1;
    if (!PyDict_CheckExact(slots)) {
        PyErr_SetString(PyExc_TypeError, "a node's slots are a dict");
        goto out;
    }
    if (PyDict_GetItemRef(slots, name, &slot) < 0)
        goto out;
    if (slot != NULL && !(PyTuple_CheckExact(slot) && PyTuple_GET_SIZE(slot) == 4)) {
        PyErr_SetString(PyExc_TypeError, "a slot is a 4-tuple");
        goto out;
    }
    PyObject *step = SLOT(self->recorder, self->o_step);
    if (step == NULL) {
        PyErr_SetString(PyExc_AttributeError, "Recorder.step");
        goto out;
    }
    Py_INCREF(step);  /* (held across the calls below: the same step all along) */
    int what = value_text(self, value, &text);
    if (what < 0)
        goto out_step;
    if (what == 2) {  /* another inline value: the reference's own text */
        result = call_recorder_void(self, self->s_set_slot_py, nid, name, value);
        goto out_step;
    }
    if (what == 0) {  /* a plain value: set_slot's text case, with set_text */
        if (slot == NULL) {
            result = put_slot(self, slots, name, Py_None, text, Py_None);
            goto out_step;
        }
        PyObject *old = PyTuple_GET_ITEM(slot, SLOT_DST);
        if (old == Py_None) {
            int differs = PyObject_RichCompareBool(PyTuple_GET_ITEM(slot, SLOT_TEXT), text, Py_NE);
            if (differs <= 0) {
                result = differs;  /* (unchanged: 0) */
                goto out_step;
            }
        }
        if ((run = end_interval(self, nid, name, slot, step)) == NULL)
            goto out_step;
        if (old != Py_None && call_recorder_void(self, self->s_unref, nid, old, NULL) < 0)
            goto out_step;
        result = put_slot(self, slots, name, Py_None, text, run);
        goto out_step;
    }
    /* a reference */
    if (slot == NULL) {
        if ((dst = node_of(self, value)) == NULL)
            goto out_step;
        run = Py_NewRef(Py_None);
    }
    else {
        PyObject *old = PyTuple_GET_ITEM(slot, SLOT_DST);
        if (old != Py_None) {  /* the same object still: nothing changed */
            PyObject *objs = recorder_dict(self, self->o_objs, "objs");
            if (objs == NULL)
                goto out_step;
            PyObject *held = PyDict_GetItemWithError(objs, old);
            if (held == NULL && PyErr_Occurred())
                goto out_step;
            if (held == value) {
                result = 0;
                goto out_step;
            }
        }
        if ((dst = node_of(self, value)) == NULL
                || (run = end_interval(self, nid, name, slot, step)) == NULL)
            goto out_step;
        if (old != Py_None && call_recorder_void(self, self->s_unref, nid, old, NULL) < 0)
            goto out_step;
    }
    if (put_slot(self, slots, name, dst, Py_None, run) < 0 || add_ref(self, nid, dst) < 0)
        goto out_step;
    slot_set(self->recorder, self->o_changed, Py_NewRef(Py_True));
    result = 0;
out_step:
    Py_DECREF(step);
out:
    Py_XDECREF(slots);
    Py_XDECREF(slot);
    Py_XDECREF(text);
    Py_XDECREF(dst);
    Py_XDECREF(run);
    return result;
}

static PyObject *
SlotsFast_set_slot(SlotsFast *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 3) {
        PyErr_SetString(PyExc_TypeError, "set_slot(nid, name, value) takes three arguments");
        return NULL;
    }
    if (self->recorder == NULL) {
        PyErr_SetString(PyExc_TypeError, "SlotsFast is not initialised");
        return NULL;
    }
    return set_slot(self, args[0], args[1], args[2]) < 0 ? NULL : Py_NewRef(Py_None);
}

/* Whether two strs are equal (a kind, a name). */
static inline int
same_text(PyObject *a, PyObject *b)
{
    return a == b || (PyUnicode_CheckExact(a) && PyUnicode_CheckExact(b) && PyUnicode_Compare(a, b) == 0);
}

/* A dict, or a subclass whose len is dict's (a defaultdict, a Counter): the reference's
 * len(obj) is then the dict's size, and it reads items with dict.get, never the
 * subclass's own methods, so no code of the program runs either way. */
static inline int
dict_sized_by_dict(PyObject *obj)
{
    if (PyDict_CheckExact(obj))
        return 1;
    PyMappingMethods *mapping = Py_TYPE(obj)->tp_as_mapping;
    return PyDict_Check(obj) && mapping != NULL && mapping->mp_length == PyDict_Type.tp_as_mapping->mp_length;
}

/* Recorder.apply_hint's common cases. 1 done, 0 not one of them (nothing changed: the
 * reference does it), -1 an error:
 * - ("attr", name) stored on an instance whose attributes all live in its __dict__
 *   (dict_types says so), found there;
 * - TAIL: a list grew at its end (append, extend, +=): its new elements' slots;
 * - ("item", key) on a dict (a defaultdict...: dict_sized_by_dict), the key a number or a
 *   str, found there: its slot `[key]`;
 * - ("item", i) on a list whose slots are up to date, i within it: its slot `[i]`.
 * Lists are exact ones (a subclass's len or [] may be the program's code). */
static int
hint_fast(SlotsFast *self, PyObject *nid, PyObject *hint)
{
    PyObject *what = NULL, *key = NULL;  /* (TAIL: neither) */
    if (hint == self->tail)
        ;
    else if (PyTuple_CheckExact(hint)) {  /* ("attr", name) or ("item", key) */
        if (PyTuple_GET_SIZE(hint) != 2)
            return 0;
        what = PyTuple_GET_ITEM(hint, 0);
        key = PyTuple_GET_ITEM(hint, 1);
        if (what != self->s_attr && what != self->s_item) {  /* (the hooks' are interned) */
            if (!PyUnicode_CheckExact(what))
                return 0;
            if (PyUnicode_Compare(what, self->s_attr) == 0)
                what = self->s_attr;
            else if (PyUnicode_Compare(what, self->s_item) == 0)
                what = self->s_item;
            else
                return PyErr_Occurred() ? -1 : 0;
        }
    }
    else
        return 0;
    PyObject *nodes = recorder_dict(self, self->o_nodes, "nodes");
    PyObject *objs = recorder_dict(self, self->o_objs, "objs");
    PyObject *dict_types = recorder_dict(self, self->o_dict_types, "dict_types");
    PyObject *lengths = recorder_dict(self, self->o_lengths, "lengths");
    if (nodes == NULL || objs == NULL || dict_types == NULL || lengths == NULL)
        return -1;
    PyObject *node = PyDict_GetItemWithError(nodes, nid);
    if (node == NULL || !PyTuple_CheckExact(node) || PyTuple_GET_SIZE(node) <= NODE_KIND)
        return PyErr_Occurred() ? -1 : 0;
    PyObject *kind = PyTuple_GET_ITEM(node, NODE_KIND);
    PyObject *obj = PyDict_GetItemWithError(objs, nid);
    if (obj == NULL || !PyUnicode_CheckExact(kind))
        return PyErr_Occurred() ? -1 : 0;
    int result = 0;
    Py_INCREF(obj);  /* (held: the calls below may drop nodes) */
    if (what == self->s_attr) {
        if (!same_text(kind, self->s_instance))
            goto out;
        PyTypeObject *type = Py_TYPE(obj);
        if (type->tp_getattro != PyObject_GenericGetAttr)
            goto out;  /* (its own __getattribute__ or __getattr__: the reference calls it) */
        PyObject *only = PyDict_GetItemWithError(dict_types, (PyObject *)type);
        if (only != Py_True) {  /* (not known yet, or __slots__: the reference) */
            result = PyErr_Occurred() ? -1 : 0;
            goto out;
        }
        PyObject *attrs = PyObject_GetAttr(obj, self->s_dict), *value = NULL;
        if (attrs == NULL) {
            if (!PyErr_ExceptionMatches(PyExc_AttributeError))
                result = -1;
            else
                PyErr_Clear();  /* (the reference's getattr(obj, "__dict__", None)) */
        }
        else if (PyDict_CheckExact(attrs)) {
            result = PyDict_GetItemRef(attrs, key, &value);
            if (result > 0)  /* found; else the reference (deleted, a class attribute...) */
                result = set_slot(self, nid, key, value) < 0 ? -1 : 1;
        }
        Py_XDECREF(value);
        Py_XDECREF(attrs);
        goto out;
    }
    PyObject *known;  /* lengths.get(nid): the items the node's slots already have */
    if (what == NULL || what == self->s_item) {
        if (!(same_text(kind, self->s_list) && PyList_CheckExact(obj))
                && !(what != NULL && same_text(kind, self->s_dict_kind) && dict_sized_by_dict(obj)))
            goto out;
    }
    if (PyDict_GetItemRef(lengths, nid, &known) < 0) {
        result = -1;
        goto out;
    }
    if (dict_sized_by_dict(obj)) {  /* ("item", key) on a dict */
        Py_ssize_t now = PyDict_GET_SIZE(obj);
        PyObject *text, *value = NULL, *name = NULL;
        int drawn = value_text(self, key, &text);  /* [key] for a key drawn as text */
        if (drawn != 0) {
            result = drawn < 0 ? -1 : 0;
            goto out_known;
        }
        name = PyUnicode_FromFormat("[%U]", text);
        Py_DECREF(text);
        if (name == NULL || (result = PyDict_GetItemRef(obj, key, &value)) <= 0) {
            result = name == NULL ? -1 : result;  /* (not there: the reference) */
            Py_XDECREF(name);
            goto out_known;
        }
        result = set_slot(self, nid, name, value) < 0 ? -1 : 1;
        Py_DECREF(name);
        Py_DECREF(value);
        if (result > 0 && known != NULL) {
            PyObject *length = PyLong_FromSsize_t(now);
            if (length == NULL || PyDict_SetItem(lengths, nid, length) < 0)
                result = -1;
            Py_XDECREF(length);
        }
        goto out_known;
    }
    /* a list */
    if (known == NULL)
        goto out_known;
    Py_ssize_t had = PyLong_AsSsize_t(known);
    if (had == -1 && PyErr_Occurred()) {
        result = -1;
        goto out_known;
    }
    Py_ssize_t first, last;  /* the items whose slots change: [first, last) */
    if (what == NULL) {  /* TAIL */
        first = had;
        last = PyList_GET_SIZE(obj);
        if (last < had)
            goto out_known;  /* (shorter: the reference) */
    }
    else {
        if (!PyLong_CheckExact(key) || had != PyList_GET_SIZE(obj))
            goto out_known;
        Py_ssize_t index = PyLong_AsSsize_t(key);
        if (index == -1 && PyErr_Occurred()) {
            PyErr_Clear();  /* (far out of range: the reference says) */
            goto out_known;
        }
        if (index < 0)
            index += had;
        if (index < 0 || index >= had)
            goto out_known;
        first = index;
        last = index + 1;
    }
    for (Py_ssize_t i = first; i < last; i++) {
        if (i >= PyList_GET_SIZE(obj)) {  /* (a call below changed it: as obj[i] would) */
            PyErr_SetString(PyExc_IndexError, "list index out of range");
            result = -1;
            goto out_known;
        }
        PyObject *item = Py_NewRef(PyList_GET_ITEM(obj, i));
        PyObject *name = PyUnicode_FromFormat("[%zd]", i);
        int failed = name == NULL || set_slot(self, nid, name, item) < 0;
        Py_XDECREF(name);
        Py_DECREF(item);
        if (failed) {
            result = -1;
            goto out_known;
        }
    }
    result = 1;
    if (what == NULL) {  /* lengths[nid] = now */
        PyObject *length = PyLong_FromSsize_t(last);
        if (length == NULL || PyDict_SetItem(lengths, nid, length) < 0)
            result = -1;
        Py_XDECREF(length);
    }
out_known:
    Py_XDECREF(known);
out:
    Py_DECREF(obj);
    return result;
}

/* Recorder.apply_hints_py(dirty): the objects the hooks saw changed, each rescanned where
 * the change was (the attribute case here, every other by `apply_hint`). */
static PyObject *
SlotsFast_apply_hints(SlotsFast *self, PyObject *dirty)
{
    if (self->recorder == NULL) {
        PyErr_SetString(PyExc_TypeError, "SlotsFast is not initialised");
        return NULL;
    }
    if (!PyList_CheckExact(dirty)) {
        PyErr_SetString(PyExc_TypeError, "apply_hints(dirty): a list");
        return NULL;
    }
    /* the changes so far, taken off the list (not cleared: another thread may add more) */
    Py_ssize_t count = PyList_GET_SIZE(dirty);
    PyObject *changed = PyList_GetSlice(dirty, 0, count);
    if (changed == NULL || PyList_SetSlice(dirty, 0, count, NULL) < 0) {
        Py_XDECREF(changed);
        return NULL;
    }
    PyObject *result = NULL;
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(changed); i++) {
        PyObject *item = PyList_GET_ITEM(changed, i);
        if (!PyTuple_CheckExact(item) || PyTuple_GET_SIZE(item) != 2) {
            PyErr_SetString(PyExc_TypeError, "a change is a pair (obj, hint)");
            goto out;
        }
        PyObject *obj = PyTuple_GET_ITEM(item, 0), *hint = PyTuple_GET_ITEM(item, 1);
        PyObject *ids = recorder_dict(self, self->o_ids, "ids");
        PyObject *nodes = recorder_dict(self, self->o_nodes, "nodes");
        if (ids == NULL || nodes == NULL)
            goto out;
        PyObject *key = PyLong_FromVoidPtr(obj), *nid;
        if (key == NULL)
            goto out;
        int found = PyDict_GetItemRef(ids, key, &nid);
        if (found > 0) {
            int known = PyDict_Contains(nodes, nid), done = 0;
            if (known > 0 && (done = hint_fast(self, nid, hint)) == 0)
                done = call_recorder_void(self, self->s_apply_hint, nid, hint, NULL);
            Py_DECREF(nid);
            found = known < 0 || done < 0 ? -1 : 1;
        }
        if (found >= 0 && PyDict_CheckExact(obj)) {  /* an instance's attributes, written
                                                        through its __dict__ */
            PyObject *attr_dicts = recorder_dict(self, self->o_attr_dicts, "attr_dicts");
            found = attr_dicts == NULL ? -1 : PyDict_Contains(attr_dicts, key);
            if (found > 0) {
                PyObject *owner = call_recorder(self, self->s_owner_of, obj, NULL, NULL);
                found = owner == NULL ? -1 : 0;
                if (owner != NULL && owner != Py_None)
                    found = call_recorder_void(self, self->s_apply_hint, owner, Py_None, NULL);
                Py_XDECREF(owner);
            }
        }
        Py_DECREF(key);
        if (found < 0)
            goto out;
    }
    result = Py_NewRef(Py_None);
out:
    Py_DECREF(changed);  /* (no temporary of the program kept alive by us: see collect_garbage) */
    return result;
}

/* --- SlotsFast.scan_items: Recorder.rescan of a new tuple's or list's node, in C ---
 * A new tuple (a namedtuple too) or list has no slots yet: each item becomes slot `[i]`,
 * by set_slot, in order, as the reference's `slots_of` and loop over it do (a list read
 * from a copy taken first, as `list(obj)` there). Their names up to ITEM_NAMES are made
 * once (a search program makes a small tuple at nearly every step). */
enum { ITEM_NAMES = 64 };

/* Slot name `[i]` (new ref). */
static PyObject *
item_name(SlotsFast *self, Py_ssize_t i)
{
    if (i >= ITEM_NAMES)
        return PyUnicode_FromFormat("[%zd]", i);
    if (self->item_names == NULL) {
        PyObject *names = PyTuple_New(ITEM_NAMES);
        if (names == NULL)
            return NULL;
        for (Py_ssize_t at = 0; at < ITEM_NAMES; at++) {
            PyObject *name = PyUnicode_FromFormat("[%zd]", at);
            if (name == NULL) {
                Py_DECREF(names);
                return NULL;
            }
            PyTuple_SET_ITEM(names, at, name);
        }
        self->item_names = names;
    }
    return Py_NewRef(PyTuple_GET_ITEM(self->item_names, i));
}

static PyObject *
SlotsFast_scan_items(SlotsFast *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 2) {
        PyErr_SetString(PyExc_TypeError, "scan_items(nid, obj) takes two arguments");
        return NULL;
    }
    if (self->recorder == NULL) {
        PyErr_SetString(PyExc_TypeError, "SlotsFast is not initialised");
        return NULL;
    }
    PyObject *nid = args[0], *obj = args[1], *items;
    if (PyList_CheckExact(obj))
        items = PyList_AsTuple(obj);  /* (the reference's list(obj): what it held then) */
    else if (PyTuple_Check(obj) && Py_TYPE(obj)->tp_iter == PyTuple_Type.tp_iter)
        items = Py_NewRef(obj);
    else {
        PyErr_SetString(PyExc_TypeError, "scan_items: a list, or a tuple iterated as one");
        return NULL;
    }
    if (items == NULL)
        return NULL;
    PyObject *result = Py_NewRef(Py_None);
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(items); i++) {
        PyObject *name = item_name(self, i);
        if (name == NULL || set_slot(self, nid, name, PyTuple_GET_ITEM(items, i)) < 0) {
            Py_XDECREF(name);
            Py_CLEAR(result);
            break;
        }
        Py_DECREF(name);
    }
    Py_DECREF(items);
    return result;
}

static PyMethodDef SlotsFast_methods[] = {
    {"scan_items", (PyCFunction)(void (*)(void))SlotsFast_scan_items, METH_FASTCALL,
     "scan_items(nid, obj): the slots `[i]` of a new node's tuple or list, as Recorder.rescan "
     "reads them (by set_slot)."},
    {"set_slot", (PyCFunction)(void (*)(void))SlotsFast_set_slot, METH_FASTCALL,
     "set_slot(nid, name, value): Recorder.set_slot_py's steps (slot `name` of node `nid` now "
     "holds `value`)."},
    {"apply_hints", (PyCFunction)SlotsFast_apply_hints, METH_O,
     "apply_hints(dirty): Recorder.apply_hints_py's steps (the hooks' changes, taken off `dirty`)."},
    {NULL, NULL, 0, NULL}
};

static PyType_Slot SlotsFast_slots[] = {
    {Py_tp_doc, "SlotsFast(recorder, inline_types, tail, max_repr, run_size): a recorder's set_slot and "
                "apply_hints in C for their common cases; every other case goes to the recorder's "
                "pure-Python methods."},
    {Py_tp_new, PyType_GenericNew},
    {Py_tp_init, SlotsFast_init},
    {Py_tp_dealloc, SlotsFast_dealloc},
    {Py_tp_traverse, SlotsFast_traverse},
    {Py_tp_clear, SlotsFast_clear},
    {Py_tp_methods, SlotsFast_methods},
    {0, NULL}
};

static PyType_Spec SlotsFast_spec = {
    .name = "pyrona.tracer._speedups.SlotsFast",
    .basicsize = sizeof(SlotsFast),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    .slots = SlotsFast_slots,
};


/* --- an instance's __slots__ read at their offsets (tracer/slot_reads.py is the reference) ---
 *
 * A __slots__ attribute is a member descriptor of kind Py_T_OBJECT_EX: its value is the
 * pointer at the member's offset in the instance, NULL while it is not set (never set, or
 * deleted). Read there, an unset slot costs nothing; desc.__get__ raises AttributeError
 * for it, which costs more than the rest of a read. Any other descriptor (a C type's
 * member of another kind, an audited one) is read through its __get__, as the reference does.
 */

/* The value of descriptor `desc` in `obj`: 1 with a new reference in *out, 0 if it is not
 * set, -1 with an error set. */
static int
member_value(PyObject *obj, PyObject *desc, PyObject **out)
{
    *out = NULL;
    if (Py_IS_TYPE(desc, &PyMemberDescr_Type)) {
        PyMemberDescrObject *d = (PyMemberDescrObject *)desc;
        if (d->d_member->type == Py_T_OBJECT_EX && !(d->d_member->flags & Py_AUDIT_READ)
                && PyObject_TypeCheck(obj, d->d_common.d_type)) {
            *out = Py_XNewRef(SLOT(obj, d->d_member->offset));
            return *out != NULL;
        }
    }
    descrgetfunc get = Py_TYPE(desc)->tp_descr_get;
    if (get == NULL) {
        PyErr_Format(PyExc_TypeError, "%R is not a descriptor", desc);
        return -1;
    }
    *out = get(desc, obj, (PyObject *)Py_TYPE(obj));
    if (*out != NULL)
        return 1;
    if (!PyErr_ExceptionMatches(PyExc_AttributeError))
        return -1;
    PyErr_Clear();  /* (not set) */
    return 0;
}

/* A descriptor's __name__ (a new reference). */
static PyObject *
member_name(PyObject *desc)
{
    if (Py_IS_TYPE(desc, &PyMemberDescr_Type))
        return Py_NewRef(PyDescr_NAME(desc));
    return PyObject_GetAttrString(desc, "__name__");
}

static PyObject *
slot_pairs(PyObject *Py_UNUSED(module), PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 2 || !PyList_CheckExact(args[1])) {
        PyErr_SetString(PyExc_TypeError, "slot_pairs(obj, descriptors: list)");
        return NULL;
    }
    PyObject *obj = args[0], *descriptors = args[1];
    PyObject *found = PyList_New(0);
    if (found == NULL)
        return NULL;
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(descriptors); i++) {
        PyObject *desc = Py_NewRef(PyList_GET_ITEM(descriptors, i)), *value, *name, *pair = NULL;
        int set = member_value(obj, desc, &value);  /* (a __get__ may change the list: desc held) */
        if (set > 0) {
            name = member_name(desc);
            if (name != NULL)
                pair = PyTuple_Pack(2, name, value);
            Py_XDECREF(name);
            Py_DECREF(value);
            if (pair == NULL || PyList_Append(found, pair) < 0)
                set = -1;
            Py_XDECREF(pair);
        }
        Py_DECREF(desc);
        if (set < 0) {
            Py_DECREF(found);
            return NULL;
        }
    }
    return found;
}

static PyObject *
slot_value(PyObject *Py_UNUSED(module), PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 3) {
        PyErr_SetString(PyExc_TypeError, "slot_value(obj, descriptor, missing)");
        return NULL;
    }
    PyObject *value;
    int set = member_value(args[0], args[1], &value);
    if (set < 0)
        return NULL;
    return set ? value : Py_NewRef(args[2]);
}

static PyObject *
slots_same(PyObject *Py_UNUSED(module), PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 3 || !PyList_CheckExact(args[1]) || !PyList_CheckExact(args[2])) {
        PyErr_SetString(PyExc_TypeError, "slots_same(obj, descriptors: list, pairs: list)");
        return NULL;
    }
    PyObject *obj = args[0], *descriptors = args[1], *pairs = args[2];
    Py_ssize_t k = 0;  /* the pairs matched so far */
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(descriptors); i++) {
        PyObject *desc = Py_NewRef(PyList_GET_ITEM(descriptors, i)), *value;
        int set = member_value(obj, desc, &value);
        if (set <= 0) {
            Py_DECREF(desc);
            if (set < 0)
                return NULL;
            continue;
        }
        int same = 0;
        if (k < PyList_GET_SIZE(pairs)) {
            PyObject *pair = PyList_GET_ITEM(pairs, k);
            if (PyTuple_CheckExact(pair) && PyTuple_GET_SIZE(pair) == 2
                    && PyTuple_GET_ITEM(pair, 1) == value) {
                PyObject *name = member_name(desc), *had = PyTuple_GET_ITEM(pair, 0);
                if (name == NULL) {
                    Py_DECREF(value);
                    Py_DECREF(desc);
                    return NULL;
                }
                same = name == had || (PyUnicode_CheckExact(name) && PyUnicode_CheckExact(had)
                                       && PyUnicode_Compare(name, had) == 0);
                Py_DECREF(name);
            }
        }
        Py_DECREF(value);
        Py_DECREF(desc);
        if (!same)
            Py_RETURN_FALSE;
        k++;
    }
    return PyBool_FromLong(k == PyList_GET_SIZE(pairs));
}

/* --- equal_key: where a dict holds a key equal to a fresh one, in C ---
 * `dist[(a, b)] += p` makes its key tuple afresh at each store: the dict keeps the first
 * one, so `_keyed_update` does not find the new one among its slots by identity. A key
 * equal to it is found among the dict's keys in their order, compared only when neither
 * comparing nor hashing runs code of the program: both plain tuples (tuples, namedtuples
 * too, whose equality and hash are tuple's, of ints, strs, floats, bools, bytes, None and
 * such tuples, PLAIN_ITEMS items in all at most: hooks._plain_tuple's rule). */
enum { PLAIN_ITEMS = 128 };

/* Whether `value` is a plain tuple within `*budget` items (1), or not (0). */
static int
plain_tuple(PyObject *value, Py_ssize_t *budget, int depth)
{
    PyTypeObject *type = Py_TYPE(value);
    if (!PyTuple_Check(value) || type->tp_richcompare != PyTuple_Type.tp_richcompare
            || type->tp_hash != PyTuple_Type.tp_hash || depth > PLAIN_ITEMS)
        return 0;
    Py_ssize_t size = PyTuple_GET_SIZE(value);
    if ((*budget -= size) < 0)
        return 0;
    for (Py_ssize_t i = 0; i < size; i++) {
        PyObject *item = PyTuple_GET_ITEM(value, i);
        PyTypeObject *kind = Py_TYPE(item);
        if (kind == &PyLong_Type || kind == &PyUnicode_Type || kind == &PyFloat_Type || kind == &PyBool_Type
                || kind == &PyBytes_Type || item == Py_None)
            continue;
        if (!plain_tuple(item, budget, depth + 1))
            return 0;
    }
    return 1;
}

/* equal_key(d, key): (i, stored) for the dict's i-th key `stored`, equal to `key` (the very
 * object, or both plain tuples); None when there is none, or telling would run code. */
static PyObject *
equal_key(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 2 || !PyDict_Check(args[0])) {
        PyErr_SetString(PyExc_TypeError, "equal_key(d, key): a dict and a key");
        return NULL;
    }
    PyObject *d = args[0], *key = args[1], *stored, *value;
    Py_ssize_t budget = PLAIN_ITEMS, pos = 0;
    if (!plain_tuple(key, &budget, 0))
        Py_RETURN_NONE;
    Py_INCREF(d);
    PyObject *result = NULL;
    for (Py_ssize_t at = 0; PyDict_Next(d, &pos, &stored, &value); at++) {
        int equal = stored == key;
        if (!equal) {
            budget = PLAIN_ITEMS;
            if (Py_TYPE(stored) != Py_TYPE(key) || PyTuple_GET_SIZE(stored) != PyTuple_GET_SIZE(key)
                    || !plain_tuple(stored, &budget, 0))
                continue;
            Py_INCREF(stored);
            equal = PyObject_RichCompareBool(stored, key, Py_EQ);  /* (tuples of values: C alone) */
            if (equal != 0) {
                if (equal > 0)
                    result = Py_BuildValue("(nO)", at, stored);
                Py_DECREF(stored);
                goto out;
            }
            Py_DECREF(stored);
            continue;
        }
        result = Py_BuildValue("(nO)", at, stored);
        goto out;
    }
    result = Py_NewRef(Py_None);
out:
    Py_DECREF(d);
    return result;
}

/* ---------------------------------------------------------------------------------
 * forget(key, tables): recorder.forget_py's steps (a node leaving the graph taken out
 * of the recorder's per-node tables at once; most are empty, and are not looked into).
 * --------------------------------------------------------------------------------- */

static PyObject *
forget(PyObject *Py_UNUSED(module), PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 2 || !PyTuple_CheckExact(args[1])) {
        PyErr_SetString(PyExc_TypeError, "forget(key, tables): tables is a tuple");
        return NULL;
    }
    PyObject *key = args[0], *tables = args[1];
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(tables); i++) {
        PyObject *table = PyTuple_GET_ITEM(tables, i);
        if (PyDict_CheckExact(table)) {
            if (PyDict_GET_SIZE(table) && PyDict_Pop(table, key, NULL) < 0)
                return NULL;
        }
        else if (PyAnySet_CheckExact(table)) {
            if (PySet_GET_SIZE(table) && PySet_Discard(table, key) < 0)
                return NULL;
        }
        else {
            PyErr_Format(PyExc_TypeError, "forget: a table is a %s, not a dict or a set",
                         Py_TYPE(table)->tp_name);
            return NULL;
        }
    }
    Py_RETURN_NONE;
}

/* ---------------------------------------------------------------------------------
 * LifeFast(recorder, short_life, bridge, frozen, instance).collect(): Recorder.collect_py's
 * steps (drop the nodes nothing references any more, cascading), with the common
 * orphan's drop and remove (Recorder.drop, Recorder.remove) done here: a node that is
 * not a bridge, not frozen, with no paused slot. Its writer's entry too when it lived
 * at most short_life steps (TraceWriter.node_closed's steps, when the writer's is that),
 * and the references it held when no proof goes through them and they are in no region
 * (Recorder._unref's common case); otherwise the writer's and the recorder's own methods
 * do it (node_closed, lived_node_closed, _unref). Any other orphan goes to Recorder.drop.
 * --------------------------------------------------------------------------------- */

typedef struct {
    PyObject_HEAD
    PyObject *recorder;
    PyObject *bridge, *frozen, *instance;  /* kinds.BRIDGE, kinds.FROZEN, kinds.INSTANCE */
    long long short_life;  /* recorder.SHORT_LIFE */
    PyObject *s_drop, *s_unref, *s_node_closed, *s_lived_node_closed, *s_dict, *s_write_group;
    /* offsets of Recorder's slots */
    Py_ssize_t o_writer, o_step, o_ids, o_objs, o_nodes, o_slots, o_inrefs, o_born, o_roots, o_orphans,
               o_paused, o_proof, o_proved_through, o_fingerprints, o_groups, o_held_nodes, o_attr_dicts,
               o_slot_prints, o_slot_held,
               o_node_tables, o_proven, o_epoch, o_suspects, o_changed;
    /* the writer's group of short-lived nodes (writer.ClosedGroup), when its node_closed is
       TraceWriter's (else NULL: node_closed is called), and the offsets of its slots */
    PyObject *group;
    Py_ssize_t group_items, g_entries, g_items, g_first, g_last, g_end;
    /* for node(): runtime.state.RUNTIME, the kinds labelled otherwise than by their type's
       name, the structure kinds, kinds.OTHER, kinds.LOCAL, kinds.LIST, and "" */
    PyObject *runtime, *labelled, *structure, *other, *local, *list_kind, *empty;
    PyObject *s_node_py, *s_rescan, *s_places, *s_freezability_used;
    Py_ssize_t o_max_objects, o_next_id, o_kinds, o_lengths;
} LifeFast;

static int
LifeFast_init(LifeFast *self, PyObject *args, PyObject *kwds)
{
    PyObject *recorder, *bridge, *frozen, *instance, *group;
    long long short_life;
    Py_ssize_t group_items;
    PyObject *runtime, *labelled, *structure, *other, *local, *list_kind;
    static char *kwlist[] = {"recorder", "short_life", "bridge", "frozen", "instance", "group", "group_items",
                             "runtime", "labelled", "structure", "other", "local", "list_kind", NULL};
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "OLUUUOnOO!O!UUU", kwlist, &recorder, &short_life, &bridge,
                                     &frozen, &instance, &group, &group_items, &runtime, &PyFrozenSet_Type,
                                     &labelled, &PyFrozenSet_Type, &structure, &other, &local, &list_kind))
        return -1;
    if (self->recorder != NULL) {
        PyErr_SetString(PyExc_TypeError, "LifeFast is initialised once");
        return -1;
    }
    self->recorder = Py_NewRef(recorder);
    self->bridge = Py_NewRef(bridge);
    self->frozen = Py_NewRef(frozen);
    self->instance = Py_NewRef(instance);
    self->short_life = short_life;
    self->runtime = Py_NewRef(runtime);
    self->labelled = Py_NewRef(labelled);
    self->structure = Py_NewRef(structure);
    self->other = Py_NewRef(other);
    self->local = Py_NewRef(local);
    self->list_kind = Py_NewRef(list_kind);
    if ((self->empty = PyUnicode_FromString("")) == NULL
            || (self->s_node_py = PyUnicode_InternFromString("node_py")) == NULL
            || (self->s_rescan = PyUnicode_InternFromString("rescan")) == NULL
            || (self->s_places = PyUnicode_InternFromString("places")) == NULL
            || (self->s_freezability_used = PyUnicode_InternFromString("freezability_used")) == NULL)
        return -1;
    if ((self->s_drop = PyUnicode_InternFromString("drop")) == NULL
            || (self->s_unref = PyUnicode_InternFromString("_unref")) == NULL
            || (self->s_node_closed = PyUnicode_InternFromString("node_closed")) == NULL
            || (self->s_lived_node_closed = PyUnicode_InternFromString("lived_node_closed")) == NULL
            || (self->s_dict = PyUnicode_InternFromString("__dict__")) == NULL
            || (self->s_write_group = PyUnicode_InternFromString("_write_group")) == NULL)
        return -1;
    if (group != Py_None) {
        PyTypeObject *gt = Py_TYPE(group);
        if ((self->g_entries = member_offset(gt, "entries")) < 0 || (self->g_items = member_offset(gt, "items")) < 0
                || (self->g_first = member_offset(gt, "first")) < 0 || (self->g_last = member_offset(gt, "last")) < 0
                || (self->g_end = member_offset(gt, "end")) < 0)
            return -1;
        self->group = Py_NewRef(group);
        self->group_items = group_items;
    }
    PyTypeObject *rt = Py_TYPE(recorder);
    if ((self->o_writer = member_offset(rt, "writer")) < 0
            || (self->o_step = member_offset(rt, "step")) < 0
            || (self->o_ids = member_offset(rt, "ids")) < 0
            || (self->o_objs = member_offset(rt, "objs")) < 0
            || (self->o_nodes = member_offset(rt, "nodes")) < 0
            || (self->o_slots = member_offset(rt, "slots")) < 0
            || (self->o_inrefs = member_offset(rt, "inrefs")) < 0
            || (self->o_born = member_offset(rt, "born")) < 0
            || (self->o_roots = member_offset(rt, "roots")) < 0
            || (self->o_orphans = member_offset(rt, "orphans")) < 0
            || (self->o_paused = member_offset(rt, "paused")) < 0
            || (self->o_proof = member_offset(rt, "proof")) < 0
            || (self->o_proved_through = member_offset(rt, "proved_through")) < 0
            || (self->o_fingerprints = member_offset(rt, "fingerprints")) < 0
            || (self->o_groups = member_offset(rt, "groups")) < 0
            || (self->o_held_nodes = member_offset(rt, "held_nodes")) < 0
            || (self->o_slot_prints = member_offset(rt, "slot_prints")) < 0
            || (self->o_slot_held = member_offset(rt, "slot_held")) < 0
            || (self->o_attr_dicts = member_offset(rt, "attr_dicts")) < 0
            || (self->o_node_tables = member_offset(rt, "node_tables")) < 0
            || (self->o_proven = member_offset(rt, "proven")) < 0
            || (self->o_epoch = member_offset(rt, "epoch")) < 0
            || (self->o_suspects = member_offset(rt, "suspects")) < 0
            || (self->o_changed = member_offset(rt, "changed")) < 0
            || (self->o_max_objects = member_offset(rt, "max_objects")) < 0
            || (self->o_next_id = member_offset(rt, "next_id")) < 0
            || (self->o_kinds = member_offset(rt, "kinds")) < 0
            || (self->o_lengths = member_offset(rt, "lengths")) < 0)
        return -1;
    return 0;
}

static int
LifeFast_traverse(LifeFast *self, visitproc visit, void *arg)
{
    Py_VISIT(self->recorder);
    Py_VISIT(self->group);
    Py_VISIT(self->runtime);
    return 0;
}

static int
LifeFast_clear(LifeFast *self)
{
    Py_CLEAR(self->recorder);
    Py_CLEAR(self->group);
    Py_CLEAR(self->runtime);
    return 0;
}

static void
LifeFast_dealloc(LifeFast *self)
{
    PyObject_GC_UnTrack(self);
    LifeFast_clear(self);
    Py_CLEAR(self->bridge); Py_CLEAR(self->frozen); Py_CLEAR(self->instance);
    Py_CLEAR(self->s_drop); Py_CLEAR(self->s_unref); Py_CLEAR(self->s_node_closed);
    Py_CLEAR(self->s_lived_node_closed); Py_CLEAR(self->s_dict); Py_CLEAR(self->s_write_group);
    Py_CLEAR(self->labelled); Py_CLEAR(self->structure); Py_CLEAR(self->other); Py_CLEAR(self->local);
    Py_CLEAR(self->list_kind); Py_CLEAR(self->empty); Py_CLEAR(self->s_node_py); Py_CLEAR(self->s_rescan);
    Py_CLEAR(self->s_places); Py_CLEAR(self->s_freezability_used);
    PyTypeObject *type = Py_TYPE(self);
    type->tp_free((PyObject *)self);
    Py_DECREF(type);
}

/* A recorder's table (a __slots__ attribute read at its offset; borrowed), checked. */
static PyObject *
life_table(LifeFast *self, Py_ssize_t offset, const char *name, int set)
{
    PyObject *found = SLOT(self->recorder, offset);
    if (found == NULL || (set ? !PyAnySet_CheckExact(found) : !PyDict_CheckExact(found))) {
        PyErr_Format(PyExc_TypeError, "Recorder.%s is not a %s", name, set ? "set" : "dict");
        return NULL;
    }
    return found;
}

/* `method(target, *args)`, its result dropped. */
static int
life_call(PyObject *method, PyObject *const *args, size_t nargs)
{
    PyObject *done = PyObject_VectorcallMethod(method, (PyObject **)args, nargs, NULL);
    if (done == NULL)
        return -1;
    Py_DECREF(done);
    return 0;
}

/* Recorder.remove's care of a node's prints (`fingerprints` with their `groups`, at
 * offset o_groups, or `slot_prints`, o_groups -1): its own go; one that may hold the node's
 * object (its node in the set at o_held) drops them all, as the Python remove does. */
static int
life_drop_prints(LifeFast *self, PyObject *nid, PyObject *prints, Py_ssize_t o_groups, Py_ssize_t o_held,
                 const char *held_name)
{
    if (!PyDict_GET_SIZE(prints))
        return 0;
    PyObject *groups = o_groups < 0 ? NULL : life_table(self, o_groups, "groups", 0);
    PyObject *held_nodes = life_table(self, o_held, held_name, 1);
    if ((o_groups >= 0 && groups == NULL) || held_nodes == NULL || PyDict_Pop(prints, nid, NULL) < 0
            || (groups != NULL && PyDict_Pop(groups, nid, NULL) < 0))
        return -1;
    int holds = PySet_Contains(held_nodes, nid);  /* (a print may hold obj) */
    if (holds <= 0)
        return holds;
    PyDict_Clear(prints);
    if (groups != NULL)
        PyDict_Clear(groups);
    return PySet_Clear(held_nodes);
}

/* Recorder.remove(nid, written=True) of a node that is not a bridge, nor frozen, with no
 * paused slot: `node` its tuple (the caller holds it). */
static int
life_remove(LifeFast *self, PyObject *nid, PyObject *node)
{
    PyObject *nodes, *objs, *ids, *proof, *fingerprints, *prints, *tables, *obj = NULL, *key = NULL, *held = NULL;
    int result = -1;
    if ((nodes = life_table(self, self->o_nodes, "nodes", 0)) == NULL
            || (objs = life_table(self, self->o_objs, "objs", 0)) == NULL
            || (ids = life_table(self, self->o_ids, "ids", 0)) == NULL
            || (proof = life_table(self, self->o_proof, "proof", 0)) == NULL
            || (fingerprints = life_table(self, self->o_fingerprints, "fingerprints", 0)) == NULL)
        return -1;
    if (PyDict_DelItem(nodes, nid) < 0 || PyDict_Pop(objs, nid, &obj) <= 0)
        goto done;
    if ((key = PyLong_FromVoidPtr(obj)) == NULL || PyDict_GetItemRef(ids, key, &held) < 0)
        goto done;
    if (held != NULL) {  /* ids[id(obj)] is another node's when obj's address was reused */
        int same = PyObject_RichCompareBool(held, nid, Py_EQ);
        if (same < 0 || (same && PyDict_DelItem(ids, key) < 0))
            goto done;
    }
    if (PyDict_GET_SIZE(proof)) {
        PyObject *parent = NULL;
        int found = PyDict_Pop(proof, nid, &parent);
        if (found < 0)
            goto done;
        if (found) {
            PyObject *through = life_table(self, self->o_proved_through, "proved_through", 0), *kids = NULL;
            int bad = through == NULL || PyDict_GetItemRef(through, parent, &kids) < 0
                      || (kids != NULL && (!PyAnySet_CheckExact(kids) || PySet_Discard(kids, nid) < 0));
            Py_DECREF(parent);
            Py_XDECREF(kids);
            if (bad) {
                if (!PyErr_Occurred())
                    PyErr_SetString(PyExc_TypeError, "Recorder.proved_through holds a non-set");
                goto done;
            }
        }
    }
    tables = SLOT(self->recorder, self->o_node_tables);
    if (tables == NULL) {
        PyErr_SetString(PyExc_AttributeError, "Recorder.node_tables");
        goto done;
    }
    PyObject *forget_args[2] = {nid, tables};
    PyObject *forgot = forget(NULL, forget_args, 2);
    if (forgot == NULL)
        goto done;
    Py_DECREF(forgot);
    if (life_drop_prints(self, nid, fingerprints, self->o_groups, self->o_held_nodes, "held_nodes") < 0)
        goto done;
    if ((prints = life_table(self, self->o_slot_prints, "slot_prints", 0)) == NULL
            || life_drop_prints(self, nid, prints, -1, self->o_slot_held, "slot_held") < 0)
        goto done;
    if (same_text(PyTuple_GET_ITEM(node, NODE_KIND), self->instance)) {
        PyObject *attr_dicts = life_table(self, self->o_attr_dicts, "attr_dicts", 0), *d = NULL, *dkey;
        if (attr_dicts == NULL || PyObject_GetOptionalAttr(obj, self->s_dict, &d) < 0)
            goto done;
        dkey = PyLong_FromVoidPtr(d == NULL ? Py_None : d);
        Py_XDECREF(d);
        if (dkey == NULL)
            goto done;
        int popped = PyDict_Pop(attr_dicts, dkey, NULL);
        Py_DECREF(dkey);
        if (popped < 0)
            goto done;
    }
    result = 0;
done:
    Py_XDECREF(held);
    Py_XDECREF(key);
    Py_XDECREF(obj);  /* (the object may go now: nothing of the recorder's refers to it) */
    return result;
}

/* An int slot of the writer's group (ClosedGroup), read. */
static int
group_int(LifeFast *self, Py_ssize_t offset, long long *out)
{
    PyObject *value = SLOT(self->group, offset);
    if (value == NULL || !PyLong_CheckExact(value)) {
        PyErr_SetString(PyExc_TypeError, "a ClosedGroup's count is not an int");
        return -1;
    }
    *out = PyLong_AsLongLong(value);
    return *out == -1 && PyErr_Occurred() ? -1 : 0;
}

/* TraceWriter.node_closed's steps for a node of at most group_items slots: its entry
 * (node, start, end, kind, type, place, label, detail, slots) added to the writer's group
 * of short-lived nodes, the group written when full. */
static int
life_entry(LifeFast *self, PyObject *nid, PyObject *node, PyObject *slots, PyObject *step, long long now,
           PyObject *came, long long since)
{
    PyObject *group = self->group, *entries = SLOT(group, self->g_entries);
    long long items, first, last, end;
    if (entries == NULL || !PyList_CheckExact(entries)) {
        PyErr_SetString(PyExc_TypeError, "ClosedGroup.entries is not a list");
        return -1;
    }
    if (group_int(self, self->g_items, &items) < 0 || group_int(self, self->g_first, &first) < 0
            || group_int(self, self->g_last, &last) < 0 || group_int(self, self->g_end, &end) < 0)
        return -1;
    PyObject *entry = PyTuple_Pack(9, nid, PyTuple_GET_ITEM(node, 0), step, PyTuple_GET_ITEM(node, 1),
                                   PyTuple_GET_ITEM(node, 2), PyTuple_GET_ITEM(node, 3),
                                   PyTuple_GET_ITEM(node, 4), PyTuple_GET_ITEM(node, 5), slots);
    if (entry == NULL)
        return -1;
    int appended = PyList_Append(entries, entry);
    Py_DECREF(entry);
    if (appended < 0)
        return -1;
    items += PyDict_GET_SIZE(slots) + 1;
    PyObject *count = PyLong_FromLongLong(items);
    if (count == NULL)
        return -1;
    slot_set(group, self->g_items, count);
    if (since < first)
        slot_set(group, self->g_first, Py_NewRef(came));
    if (since > last)
        slot_set(group, self->g_last, Py_NewRef(came));
    if (now > end)
        slot_set(group, self->g_end, Py_NewRef(step));
    if (items >= self->group_items) {
        PyObject *args[2] = {SLOT(self->recorder, self->o_writer), group};
        if (args[0] == NULL || life_call(self->s_write_group, args, 2) < 0)
            return -1;
    }
    return 0;
}

/* Recorder._unref(nid, dst)'s common case: dst's proof does not go through nid, dst is in
 * no region. 1 done, 0 not that case (nothing changed: the reference does it), -1 an error. */
static int
life_unref(LifeFast *self, PyObject *nid, PyObject *dst)
{
    PyObject *rec = self->recorder, *proof, *nodes, *inrefs, *roots, *node = NULL, *refs = NULL, *count = NULL;
    int result = -1;
    if ((proof = life_table(self, self->o_proof, "proof", 0)) == NULL
            || (nodes = life_table(self, self->o_nodes, "nodes", 0)) == NULL
            || (inrefs = life_table(self, self->o_inrefs, "inrefs", 0)) == NULL
            || (roots = life_table(self, self->o_roots, "roots", 1)) == NULL)
        return -1;
    if (PyDict_GET_SIZE(proof)) {
        PyObject *through = NULL;
        if (PyDict_GetItemRef(proof, dst, &through) < 0)
            return -1;
        if (through != NULL) {
            int same = PyObject_RichCompareBool(through, nid, Py_EQ);
            Py_DECREF(through);
            if (same != 0)
                return same < 0 ? -1 : 0;  /* (its proof may go: the reference's) */
        }
    }
    if (PyDict_GetItemRef(nodes, dst, &node) < 0 || PyDict_GetItemRef(inrefs, dst, &refs) < 0)
        goto done;
    result = 0;
    if (node == NULL || refs == NULL || !PyTuple_CheckExact(node) || PyTuple_GET_SIZE(node) != 6
            || !PyDict_CheckExact(refs))
        goto done;
    PyObject *place = PyTuple_GET_ITEM(node, NODE_PLACE);
    if (!PyUnicode_CheckExact(place) || PyUnicode_GET_LENGTH(place) == 0 || PyUnicode_READ_CHAR(place, 0) == 'r')
        goto done;  /* (a region's member: its counts are the reference's) */
    if (PyDict_GetItemRef(refs, nid, &count) < 0) {
        result = -1;
        goto done;
    }
    if (count == NULL || !PyLong_CheckExact(count))
        goto done;
    result = -1;
    long long n = PyLong_AsLongLong(count);
    if (n == -1 && PyErr_Occurred())
        goto done;
    if (n == 1) {
        if (PyDict_DelItem(refs, nid) < 0)
            goto done;
    }
    else {
        PyObject *less = PyLong_FromLongLong(n - 1);
        if (less == NULL)
            goto done;
        int set = PyDict_SetItem(refs, nid, less);
        Py_DECREF(less);
        if (set < 0)
            goto done;
    }
    int root = PySet_Contains(roots, dst);
    if (root < 0)
        goto done;
    if (!root) {
        PyObject *to = NULL;  /* the list dst goes onto, if any */
        if (PyDict_GET_SIZE(refs) == 0)
            to = SLOT(rec, self->o_orphans);
        else {  /* dst may now hang in an unreachable cycle, unless its proof stands */
            PyObject *proven = life_table(self, self->o_proven, "proven", 0), *held = NULL;
            PyObject *epoch = SLOT(rec, self->o_epoch);
            if (proven == NULL || epoch == NULL || PyDict_GetItemRef(proven, dst, &held) < 0)
                goto done;
            int stands = 0;
            if (held != NULL && PyTuple_CheckExact(held) && PyTuple_GET_SIZE(held) == 2) {
                stands = PyObject_RichCompareBool(PyTuple_GET_ITEM(held, 0), epoch, Py_EQ);
                if (stands > 0)
                    stands = PySet_Contains(roots, PyTuple_GET_ITEM(held, 1));
            }
            else if (held != NULL) {
                PyErr_SetString(PyExc_TypeError, "Recorder.proven holds a non-pair");
                stands = -1;
            }
            Py_XDECREF(held);
            if (stands < 0)
                goto done;
            if (!stands)
                to = SLOT(rec, self->o_suspects);
        }
        if (to != NULL && (!PyList_CheckExact(to) || PyList_Append(to, dst) < 0)) {
            if (!PyErr_Occurred())
                PyErr_SetString(PyExc_TypeError, "Recorder.orphans or suspects is not a list");
            goto done;
        }
    }
    slot_set(rec, self->o_changed, Py_NewRef(Py_True));
    result = 1;
done:
    Py_XDECREF(node);
    Py_XDECREF(refs);
    Py_XDECREF(count);
    return result;
}

/* Recorder.drop([nid]) of a common orphan (see above); 0 when it is not one (nothing done). */
static int
life_drop(LifeFast *self, PyObject *nid, PyObject *node)
{
    PyObject *rec = self->recorder, *slots_of = NULL, *slots = NULL, *came = NULL, *born, *paused;
    PyObject *step = SLOT(rec, self->o_step), *writer = SLOT(rec, self->o_writer);
    int result = -1;
    if (!PyTuple_CheckExact(node) || PyTuple_GET_SIZE(node) != 6 || step == NULL || !PyLong_CheckExact(step)
            || writer == NULL)
        return 0;
    if (same_text(PyTuple_GET_ITEM(node, NODE_KIND), self->bridge)
            || same_text(PyTuple_GET_ITEM(node, NODE_PLACE), self->frozen))
        return 0;
    if ((paused = life_table(self, self->o_paused, "paused", 0)) == NULL
            || (slots_of = life_table(self, self->o_slots, "slots", 0)) == NULL
            || (born = life_table(self, self->o_born, "born", 0)) == NULL)
        return -1;
    if (PyDict_GET_SIZE(paused)) {
        int has = PyDict_Contains(paused, nid);
        if (has != 0)
            return has < 0 ? -1 : 0;
    }
    if (PyDict_GetItemRef(slots_of, nid, &slots) < 0 || PyDict_GetItemRef(born, nid, &came) < 0)
        goto done;
    if (slots == NULL || came == NULL || !PyDict_CheckExact(slots) || !PyLong_CheckExact(came)) {
        result = 0;
        goto done;
    }
    long long now = PyLong_AsLongLong(step), since = PyLong_AsLongLong(came);
    if ((now == -1 || since == -1) && PyErr_Occurred())
        goto done;
    if (now != since) {  /* (one that came at this step leaves nothing to write) */
        if (now - since <= self->short_life && self->group != NULL && PyDict_GET_SIZE(slots) <= self->group_items) {
            if (life_entry(self, nid, node, slots, step, now, came, since) < 0)
                goto done;
        }
        else {
            PyObject *args[6] = {writer, nid, node, slots, step, came};
            if (life_call(now - since <= self->short_life ? self->s_node_closed : self->s_lived_node_closed,
                          args, 6) < 0)
                goto done;
        }
    }
    /* the references it held go (a copy of its slots: `_unref` runs the recorder's code) */
    PyObject *held = PyDict_Values(slots);
    if (held == NULL)
        goto done;
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(held); i++) {
        PyObject *slot = PyList_GET_ITEM(held, i);
        if (!PyTuple_CheckExact(slot) || PyTuple_GET_SIZE(slot) != 4) {
            PyErr_SetString(PyExc_TypeError, "a slot is not a 4-tuple");
            Py_DECREF(held);
            goto done;
        }
        PyObject *dst = PyTuple_GET_ITEM(slot, SLOT_DST);
        if (dst != Py_None) {
            int done_here = life_unref(self, nid, dst);
            PyObject *args[3] = {rec, nid, dst};
            if (done_here < 0 || (done_here == 0 && life_call(self->s_unref, args, 3) < 0)) {
                Py_DECREF(held);
                goto done;
            }
        }
    }
    Py_DECREF(held);
    result = life_remove(self, nid, node) < 0 ? -1 : 1;
done:
    Py_XDECREF(slots);
    Py_XDECREF(came);
    return result;
}

static PyObject *
LifeFast_collect(LifeFast *self, PyObject *Py_UNUSED(ignored))
{
    PyObject *rec = self->recorder;
    if (rec == NULL) {
        PyErr_SetString(PyExc_TypeError, "LifeFast is not initialised");
        return NULL;
    }
    for (;;) {
        PyObject *orphans = SLOT(rec, self->o_orphans), *nodes, *inrefs, *roots, *node = NULL, *refs = NULL;
        if (orphans == NULL || !PyList_CheckExact(orphans)) {
            PyErr_SetString(PyExc_TypeError, "Recorder.orphans is not a list");
            return NULL;
        }
        Py_ssize_t left = PyList_GET_SIZE(orphans);
        if (left == 0)
            break;
        PyObject *nid = Py_NewRef(PyList_GET_ITEM(orphans, left - 1));
        int result = -1;
        if (PyList_SetSlice(orphans, left - 1, left, NULL) < 0
                || (nodes = life_table(self, self->o_nodes, "nodes", 0)) == NULL
                || (inrefs = life_table(self, self->o_inrefs, "inrefs", 0)) == NULL
                || (roots = life_table(self, self->o_roots, "roots", 1)) == NULL
                || PyDict_GetItemRef(nodes, nid, &node) < 0 || PyDict_GetItemRef(inrefs, nid, &refs) < 0)
            goto next;
        int referred = refs == NULL ? 0 : PyObject_IsTrue(refs), root = 0;
        if (referred < 0 || (root = PySet_Contains(roots, nid)) < 0)
            goto next;
        if (node == NULL || referred || root) {  /* (gone already, referred to again, or a root) */
            result = 0;
            goto next;
        }
        result = life_drop(self, nid, node);
        if (result == 0) {  /* not the common orphan: the reference drops it */
            PyObject *list = PyList_New(1);
            if (list == NULL) {
                result = -1;
                goto next;
            }
            PyList_SET_ITEM(list, 0, Py_NewRef(nid));
            PyObject *args[2] = {rec, list};
            result = life_call(self->s_drop, args, 2);
            Py_DECREF(list);
        }
    next:
        Py_XDECREF(node);
        Py_XDECREF(refs);
        Py_DECREF(nid);
        if (result < 0)
            return NULL;
    }
    Py_RETURN_NONE;
}

/* Whether node(obj) is the common case here: a local object (no place of the runtime's)
 * of a type whose kind is known and labelled by its type's name, the cap not reached,
 * no freezability status set. 1 yes (*kind borrowed from the recorder's kinds), 0 no,
 * -1 an error. Nothing is changed. */
static int
life_common_node(LifeFast *self, PyObject *obj, PyObject *key, PyObject **kind)
{
    PyObject *rec = self->recorder, *nodes, *kinds_of, *max_objects = SLOT(rec, self->o_max_objects);
    if ((nodes = life_table(self, self->o_nodes, "nodes", 0)) == NULL
            || (kinds_of = life_table(self, self->o_kinds, "kinds", 0)) == NULL)
        return -1;
    if (max_objects == NULL || !PyLong_CheckExact(max_objects))
        return 0;
    Py_ssize_t cap = PyLong_AsSsize_t(max_objects);
    if (cap == -1 && PyErr_Occurred()) {
        PyErr_Clear();
        return 0;
    }
    if (PyDict_GET_SIZE(nodes) >= cap)
        return 0;  /* (the reference raises CapReached) */
    *kind = PyDict_GetItemWithError(kinds_of, (PyObject *)Py_TYPE(obj));  /* borrowed */
    if (*kind == NULL)
        return PyErr_Occurred() ? -1 : 0;
    int labelled = PySet_Contains(self->labelled, *kind);
    if (labelled != 0)
        return labelled < 0 ? -1 : 0;
    PyObject *used = PyObject_GetAttr(self->runtime, self->s_freezability_used);
    if (used == NULL)
        return -1;
    int set = PyObject_IsTrue(used);
    Py_DECREF(used);
    if (set != 0)
        return set < 0 ? -1 : 0;
    PyObject *places = PyObject_GetAttr(self->runtime, self->s_places);
    if (places == NULL)
        return -1;
    int placed = PyDict_CheckExact(places) ? PyDict_Contains(places, key) : 1;
    Py_DECREF(places);
    return placed < 0 ? -1 : !placed;
}

/* Recorder.node_py's steps for the common case (life_common_node); the reference for
 * any other, and for a revived node. */
static PyObject *
LifeFast_node(LifeFast *self, PyObject *const *args, Py_ssize_t nargsf, PyObject *kwnames)
{
    PyObject *rec = self->recorder;
    Py_ssize_t nargs = PyVectorcall_NARGS(nargsf);
    if (rec == NULL) {
        PyErr_SetString(PyExc_TypeError, "LifeFast is not initialised");
        return NULL;
    }
    if (nargs != 1 || kwnames != NULL) {  /* (revive=...: the reference) */
        Py_ssize_t given = nargs + (kwnames == NULL ? 0 : PyTuple_GET_SIZE(kwnames));
        PyObject *whole[4];
        if (given > 3) {
            PyErr_SetString(PyExc_TypeError, "node() takes obj and revive");
            return NULL;
        }
        whole[0] = rec;
        for (Py_ssize_t i = 0; i < given; i++)
            whole[i + 1] = args[i];
        return PyObject_VectorcallMethod(self->s_node_py, whole, (size_t)(nargs + 1), kwnames);
    }
    PyObject *obj = args[0], *ids, *key, *nid = NULL, *kind = NULL;
    if ((ids = life_table(self, self->o_ids, "ids", 0)) == NULL || (key = PyLong_FromVoidPtr(obj)) == NULL)
        return NULL;
    if (PyDict_GetItemRef(ids, key, &nid) != 0) {  /* (there already, or an error) */
        Py_DECREF(key);
        return nid;
    }
    int common = life_common_node(self, obj, key, &kind);
    if (common <= 0) {
        Py_DECREF(key);
        if (common < 0)
            return NULL;
        PyObject *call[2] = {rec, obj};
        return PyObject_VectorcallMethod(self->s_node_py, call, 2, NULL);
    }
    Py_INCREF(kind);  /* (the kinds dict may change under the calls below) */
    PyObject *objs = life_table(self, self->o_objs, "objs", 0), *nodes = life_table(self, self->o_nodes, "nodes", 0);
    PyObject *born = life_table(self, self->o_born, "born", 0), *slots = life_table(self, self->o_slots, "slots", 0);
    PyObject *inrefs = life_table(self, self->o_inrefs, "inrefs", 0), *step = SLOT(rec, self->o_step);
    PyObject *next = SLOT(rec, self->o_next_id), *name = NULL, *node = NULL, *after = NULL, *result = NULL;
    if (objs == NULL || nodes == NULL || born == NULL || slots == NULL || inrefs == NULL)
        goto done;
    if (step == NULL || next == NULL || !PyLong_CheckExact(next)) {
        PyErr_SetString(PyExc_TypeError, "Recorder.step or next_id is not set");
        goto done;
    }
    nid = Py_NewRef(next);
    long long number = PyLong_AsLongLong(nid);
    if ((number == -1 && PyErr_Occurred()) || (after = PyLong_FromLongLong(number + 1)) == NULL)
        goto done;
    slot_set(rec, self->o_next_id, after);
    if ((name = PyType_GetName(Py_TYPE(obj))) == NULL
            || (node = PyTuple_Pack(6, step, kind, name, self->local, name, self->empty)) == NULL)
        goto done;
    if (PyDict_SetItem(ids, key, nid) < 0 || PyDict_SetItem(objs, nid, obj) < 0
            || PyDict_SetItem(nodes, nid, node) < 0 || PyDict_SetItem(born, nid, step) < 0)
        goto done;
    PyObject *fresh = PyDict_New();
    if (fresh == NULL || PyDict_SetItem(slots, nid, fresh) < 0) {
        Py_XDECREF(fresh);
        goto done;
    }
    Py_DECREF(fresh);
    if ((fresh = PyDict_New()) == NULL || PyDict_SetItem(inrefs, nid, fresh) < 0) {
        Py_XDECREF(fresh);
        goto done;
    }
    Py_DECREF(fresh);
    slot_set(rec, self->o_changed, Py_NewRef(Py_True));
    if (PyList_CheckExact(obj) && same_text(kind, self->list_kind) && PyList_GET_SIZE(obj) == 0) {
        PyObject *lengths = life_table(self, self->o_lengths, "lengths", 0), *zero;
        if (lengths == NULL || (zero = PyLong_FromLong(0)) == NULL)
            goto done;
        int set = PyDict_SetItem(lengths, nid, zero);
        Py_DECREF(zero);
        if (set < 0)
            goto done;
    }
    else {
        int structure = PySet_Contains(self->structure, kind);
        if (structure < 0)
            goto done;
        if (!structure && !same_text(kind, self->other)) {
            PyObject *call[2] = {rec, nid};
            if (life_call(self->s_rescan, call, 2) < 0)
                goto done;
        }
    }
    result = Py_NewRef(nid);
done:
    Py_XDECREF(nid);
    Py_XDECREF(key);
    Py_DECREF(kind);
    Py_XDECREF(name);
    Py_XDECREF(node);
    return result;
}

static PyMethodDef LifeFast_methods[] = {
    {"collect", (PyCFunction)LifeFast_collect, METH_NOARGS,
     "collect(): Recorder.collect_py's steps (drop the nodes nothing references any more)."},
    {"node", (PyCFunction)(void (*)(void))LifeFast_node, METH_FASTCALL | METH_KEYWORDS,
     "node(obj, revive=0): Recorder.node_py's steps (the node of `obj`, created and scanned if new)."},
    {NULL, NULL, 0, NULL}
};

static PyType_Slot LifeFast_slots[] = {
    {Py_tp_doc, "LifeFast(recorder, short_life, bridge, frozen, instance, group, group_items): a "
                "recorder's collect in C, "
                "its common orphan dropped and removed here; every other goes to Recorder.drop."},
    {Py_tp_new, PyType_GenericNew},
    {Py_tp_init, LifeFast_init},
    {Py_tp_dealloc, LifeFast_dealloc},
    {Py_tp_traverse, LifeFast_traverse},
    {Py_tp_clear, LifeFast_clear},
    {Py_tp_methods, LifeFast_methods},
    {0, NULL}
};

static PyType_Spec LifeFast_spec = {
    .name = "pyrona.tracer._speedups.LifeFast",
    .basicsize = sizeof(LifeFast),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    .slots = LifeFast_slots,
};

/* --- items_same: a plain list's node unchanged, told in C (tracer/item_reads.py is the reference) ---
 * A DEEP hint (library code ran on an object) rescans what the object holds: a pathlib
 * path's `_raw_paths` and `_tail_cached` lists, which the library seldom changes. A
 * rescan of a list builds its (name, value) pairs and calls set_slot for each, to find
 * nothing changed. Here the node's slots are compared with the list's items in one pass:
 * the same count, slot i named `[i]` in the dict's order, holding the item itself (a
 * node whose object is the item) or the item's own text (an exact str, its repr cut as
 * short_repr cuts it, an int within a long long, a bool, a float or None: the text
 * set_slot would draw). Anything else answers "not the same" (the
 * full rescan then decides), so no code of the program runs (no __eq__, no __repr__). */

/* Whether text slot `had` holds what set_slot would draw `item` as: 1 yes, 0 no or not
 * told here, -1 an error. */
static int
item_text_same(PyObject *item, PyObject *had, Py_ssize_t max_repr)
{
    PyTypeObject *kind = Py_TYPE(item);
    PyObject *text;
    if (kind == &PyUnicode_Type) {
        text = PyObject_Repr(item);
        if (text == NULL)
            return -1;
        Py_ssize_t length = PyUnicode_GET_LENGTH(text);
        if (length > max_repr) {  /* objects.short_repr's cut: its first max_repr - 1 characters, "…" */
            int same = PyUnicode_CheckExact(had) && PyUnicode_GET_LENGTH(had) == max_repr
                       && PyUnicode_READ_CHAR(had, max_repr - 1) == 0x2026;
            for (Py_ssize_t at = 0; same && at < max_repr - 1; at++)
                same = PyUnicode_READ_CHAR(had, at) == PyUnicode_READ_CHAR(text, at);
            Py_DECREF(text);
            return same;
        }
    }
    else if (kind == &PyLong_Type) {
        int overflow = 0;
        long long small = PyLong_AsLongLongAndOverflow(item, &overflow);
        if (small == -1 && PyErr_Occurred())
            return -1;
        if (overflow || max_repr < 20)  /* (within a long long: within objects.SHORT_INT) */
            return 0;
        text = PyObject_Repr(item);
    }
    else if (kind == &PyBool_Type || kind == &PyFloat_Type || item == Py_None)
        text = PyObject_Repr(item);
    else
        return 0;
    if (text == NULL)
        return -1;
    int same = PyUnicode_CheckExact(had) && PyUnicode_Compare(text, had) == 0;
    Py_DECREF(text);
    return same;
}

static PyObject *
items_same(PyObject *Py_UNUSED(module), PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 4 || !PyDict_CheckExact(args[0]) || !PyDict_CheckExact(args[1]) || !PyList_CheckExact(args[2])
            || !PyLong_CheckExact(args[3])) {
        PyErr_SetString(PyExc_TypeError, "items_same(slots: dict, objs: dict, items: list, max_repr: int)");
        return NULL;
    }
    PyObject *slots = args[0], *objs = args[1], *items = args[2], *name, *slot;
    Py_ssize_t max_repr = PyLong_AsSsize_t(args[3]), pos = 0, i = 0;
    if (max_repr == -1 && PyErr_Occurred())
        return NULL;
    if (PyDict_GET_SIZE(slots) != PyList_GET_SIZE(items))
        Py_RETURN_FALSE;
    /* (no code of the program runs below: the list, the slots and objs stay as they are) */
    while (PyDict_Next(slots, &pos, &name, &slot)) {
        char expected[32];
        if (i >= PyList_GET_SIZE(items) || !PyUnicode_CheckExact(name)
                || !(PyTuple_CheckExact(slot) && PyTuple_GET_SIZE(slot) == 4))
            Py_RETURN_FALSE;
        snprintf(expected, sizeof expected, "[%zd]", i);
        if (PyUnicode_CompareWithASCIIString(name, expected) != 0)
            Py_RETURN_FALSE;
        PyObject *item = PyList_GET_ITEM(items, i), *dst = PyTuple_GET_ITEM(slot, SLOT_DST);
        if (dst != Py_None) {
            PyObject *held = PyDict_GetItemWithError(objs, dst);
            if (held == NULL && PyErr_Occurred())
                return NULL;
            if (held != item)
                Py_RETURN_FALSE;
        }
        else {
            int same = item_text_same(item, PyTuple_GET_ITEM(slot, SLOT_TEXT), max_repr);
            if (same <= 0)
                return same < 0 ? NULL : Py_NewRef(Py_False);
        }
        i++;
    }
    return PyBool_FromLong(i == PyList_GET_SIZE(items));
}

/* slots_match(obj, descriptors, slots, objs, max_repr): whether a rescan of the slots-only
 * instance `obj` would leave its node's slots `slots` as they are: each set slot of
 * `descriptors` has the node's slot of its name holding it (as items_same tells an item),
 * and the node has no other slot. Unlike a slot print (Recorder.slot_prints) it holds
 * nothing: the node's slots are compared with the object as it is now. */
static PyObject *
slots_match(PyObject *Py_UNUSED(module), PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 5 || !PyList_CheckExact(args[1]) || !PyDict_CheckExact(args[2]) || !PyDict_CheckExact(args[3])
            || !PyLong_CheckExact(args[4])) {
        PyErr_SetString(PyExc_TypeError,
                        "slots_match(obj, descriptors: list, slots: dict, objs: dict, max_repr: int)");
        return NULL;
    }
    PyObject *obj = args[0], *descriptors = args[1], *slots = args[2], *objs = args[3];
    Py_ssize_t max_repr = PyLong_AsSsize_t(args[4]), count = 0;
    if (max_repr == -1 && PyErr_Occurred())
        return NULL;
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(descriptors); i++) {
        PyObject *desc = Py_NewRef(PyList_GET_ITEM(descriptors, i)), *value, *name, *slot = NULL;
        int same = member_value(obj, desc, &value);  /* (a __get__ may change the list: desc held) */
        if (same > 0) {
            name = member_name(desc);
            same = name == NULL ? -1 : PyDict_GetItemRef(slots, name, &slot);
            Py_XDECREF(name);
            if (same > 0) {
                if (!(PyTuple_CheckExact(slot) && PyTuple_GET_SIZE(slot) == 4))
                    same = 0;
                else if (PyTuple_GET_ITEM(slot, SLOT_DST) != Py_None) {
                    PyObject *held = PyDict_GetItemWithError(objs, PyTuple_GET_ITEM(slot, SLOT_DST));
                    same = held == value ? 1 : held == NULL && PyErr_Occurred() ? -1 : 0;
                }
                else
                    same = item_text_same(value, PyTuple_GET_ITEM(slot, SLOT_TEXT), max_repr);
                count++;
            }
            Py_XDECREF(slot);
            Py_DECREF(value);
            Py_DECREF(desc);
            if (same <= 0)
                return same < 0 ? NULL : Py_NewRef(Py_False);
            continue;
        }
        Py_DECREF(desc);
        if (same < 0)
            return NULL;
    }
    return PyBool_FromLong(count == PyDict_GET_SIZE(slots));
}

static PyMethodDef speedups_methods[] = {
    {"build", (PyCFunction)(void (*)(void))build, METH_FASTCALL,
     "build(cls, strings, tabled, *columns) -> list: instances of a class of exactly one __slots__ "
     "object slot per column (the model's Node, Edge, Field), the k-th made of each column's k-th "
     "item; a column whose bit is set in `tabled` holds indices into the list `strings`."},
    {"group_json", (PyCFunction)(void (*)(void))group_json, METH_FASTCALL,
     "group_json(entries, ascii) -> str | None: a nodes GROUP row's detail, the same text as "
     "store_format.group_detail_py (orjson's, or the json module's with `ascii`); None for "
     "entries it does not write the same way (the reference then does)."},
    {"forget", (PyCFunction)(void (*)(void))forget, METH_FASTCALL,
     "forget(key, tables): take `key` out of each dict or set of the tuple `tables` that holds "
     "it (recorder.forget_py's steps)."},
    {"generator_of", generator_of, METH_O,
     "generator_of(frame) -> the generator, coroutine or async generator owning `frame`, or None."},
    {"slot_pairs", (PyCFunction)(void (*)(void))slot_pairs, METH_FASTCALL,
     "slot_pairs(obj, descriptors) -> [(name, value)] for each descriptor whose slot is set in obj, "
     "in the list's order (tracer/slot_reads.py's slot_pairs_py is the reference)."},
    {"slot_value", (PyCFunction)(void (*)(void))slot_value, METH_FASTCALL,
     "slot_value(obj, descriptor, missing) -> the slot's value in obj, or `missing` if it is not set."},
    {"slots_same", (PyCFunction)(void (*)(void))slots_same, METH_FASTCALL,
     "slots_same(obj, descriptors, pairs) -> whether slot_pairs(obj, descriptors) would give the "
     "same names holding the very same objects as `pairs`."},
    {"equal_key", (PyCFunction)(void (*)(void))equal_key, METH_FASTCALL,
     "equal_key(d, key): (i, stored) for dict d's i-th key, `key` itself or a plain tuple equal to it "
     "(compared only when that runs no code of the program), else None."},
    {"items_same", (PyCFunction)(void (*)(void))items_same, METH_FASTCALL,
     "items_same(slots, objs, items, max_repr) -> whether a list node's slots `slots` are exactly "
     "what a rescan of the list `items` would leave (tracer/item_reads.py's items_same_py is the "
     "reference); False also when it cannot tell without running the program's code."},
    {"slots_match", (PyCFunction)(void (*)(void))slots_match, METH_FASTCALL,
     "slots_match(obj, descriptors, slots, objs, max_repr) -> whether a slots-only instance's node "
     "slots `slots` are exactly what a rescan of `obj` would leave (tracer/item_reads.py's "
     "slots_match_py is the reference); False also when it cannot tell without running code."},
    {NULL, NULL, 0, NULL}
};

static int
speedups_exec(PyObject *module)
{
    PyObject *type = PyType_FromModuleAndSpec(module, &LineFast_spec, NULL);
    if (type == NULL || PyModule_Add(module, "LineFast", type) < 0)
        return -1;
    if (PyModule_Add(module, "SlotsFast", PyType_FromModuleAndSpec(module, &SlotsFast_spec, NULL)) < 0)
        return -1;
    return PyModule_Add(module, "LifeFast", PyType_FromModuleAndSpec(module, &LifeFast_spec, NULL));
}

static PyModuleDef_Slot speedups_slots[] = {
    {Py_mod_exec, speedups_exec},
    {Py_mod_multiple_interpreters, Py_MOD_PER_INTERPRETER_GIL_SUPPORTED},
    {0, NULL}
};

static struct PyModuleDef speedups_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "pyrona.tracer._speedups",
    .m_doc = "The tracer's LINE callback in C for its common case (tracer/line.py is the reference), "
             "the recorder's set_slot, store hints, forget and collect (tracer/recorder.py is the reference), "
             "a nodes GROUP row's JSON text (tracer/store_format.py's group_detail_py is the reference), "
             "the model's objects built in bulk from columns (tracer/decoded.py is the reference), "
             "a frame's generator (tracer/generator_of.py), "
             "and an instance's __slots__ read at their offsets (tracer/slot_reads.py).",
    .m_size = 0,
    .m_methods = speedups_methods,
    .m_slots = speedups_slots,
};

PyMODINIT_FUNC
PyInit__speedups(void)
{
    return PyModuleDef_Init(&speedups_module);
}
