/* The hot loops of freeze's walk (pyrona/runtime/freezing.py), in C.

   Optional: built from this file by the project's own install (setup.py, the machine's C
   compiler); without it freezing.py runs its pure-Python twins, which do the same thing
   in the same order (tests/test_freezing.py runs both and compares them). Only the common
   case is here: builtin lists and dicts, and plain instances of classes with no hook and
   no freezability setting. Everything with a check of its own stays in Python.

   Nothing here changes an object: it fills the plan (`found`, id -> object) and lists. */

#define PY_SSIZE_T_CLEAN
#include <Python.h>

/* How the walk treats a type: the values of freezing._ITEMS, _DICT and _INSTANCE. */
enum { HOW_ITEMS = 0, HOW_DICT = 2, HOW_INSTANCE = 3 };

/* found[oid] = obj unless there; returns 1 if it was new, 0 if met before, -1 on error.
   (one look-up: setdefault, then whether the dict grew) */
static int
claim(PyObject *found, PyObject *oid, PyObject *obj)
{
    Py_ssize_t before = PyDict_GET_SIZE(found);
    if (PyDict_SetDefault(found, oid, obj) == NULL) {
        return -1;
    }
    return PyDict_GET_SIZE(found) != before;
}

/* The `how` of obj's type in `plain` (type -> int), or -1 when it is not plain. */
static int
how_of(PyObject *plain, PyObject *obj)
{
    PyObject *how = PyDict_GetItemWithError(plain, (PyObject *)Py_TYPE(obj));
    if (how == NULL) {
        return PyErr_Occurred() ? -2 : -1;
    }
    return (int)PyLong_AsLong(how);
}

/* take_plain(level, ids, found, plain, places, attr, bulk, dicts) -> (rest, rest_ids)

   Python twin: freezing._take_plain_py (its docstring says what and in which order). */
static PyObject *
take_plain(PyObject *self, PyObject *args)
{
    PyObject *level, *ids, *found, *plain, *places, *attr, *bulk, *dicts;
    if (!PyArg_ParseTuple(args, "O!O!O!O!O!UO!O!", &PyList_Type, &level, &PyList_Type, &ids,
                          &PyDict_Type, &found, &PyDict_Type, &plain, &PyDict_Type, &places,
                          &attr, &PyList_Type, &bulk, &PyList_Type, &dicts)) {
        return NULL;
    }
    Py_ssize_t n = PyList_GET_SIZE(level);
    if (PyList_GET_SIZE(ids) != n) {
        PyErr_SetString(PyExc_ValueError, "take_plain: level and ids differ in length");
        return NULL;
    }
    PyObject *rest = PyList_New(0), *rest_ids = PyList_New(0), *own = NULL, *fresh = NULL;
    PyObject *dict_name = PyUnicode_InternFromString("__dict__");  /* (per interpreter: no static) */
    signed char *hows = PyMem_Malloc(n ? n : 1);
    if (rest == NULL || rest_ids == NULL || hows == NULL || dict_name == NULL) {
        goto error;
    }
    int any_instance = 0, instances_plain = 1;
    for (Py_ssize_t i = 0; i < n; i++) {
        int how = how_of(plain, PyList_GET_ITEM(level, i));
        if (how == -2) {
            goto error;
        }
        hows[i] = (signed char)how;
        any_instance |= how == HOW_INSTANCE;
    }
    /* instances: each one's __dict__, and whether all are plain (no status of their own,
       dict not placed apart); if one is not, all instances go object by object */
    if (any_instance) {
        own = PyList_New(0);
        if (own == NULL) {
            goto error;
        }
        for (Py_ssize_t i = 0; i < n && instances_plain; i++) {
            if (hows[i] != HOW_INSTANCE) {
                continue;
            }
            PyObject *d = PyObject_GetAttr(PyList_GET_ITEM(level, i), dict_name);
            if (d == NULL) {
                goto error;
            }
            int ok = PyDict_CheckExact(d);
            if (ok) {
                int has = PyDict_Contains(d, attr);
                PyObject *did = has < 0 ? NULL : PyLong_FromVoidPtr(d);
                int placed = did == NULL ? -1 : PyDict_Contains(places, did);
                Py_XDECREF(did);
                if (has < 0 || placed < 0) {
                    Py_DECREF(d);
                    goto error;
                }
                ok = !has && !placed;
            }
            if (ok && PyList_Append(own, d) < 0) {
                Py_DECREF(d);
                goto error;
            }
            Py_DECREF(d);
            instances_plain = ok;
        }
    }
    /* the rest, in the level's order; then the instances when they are not all plain */
    for (int pass = 0; pass < 2; pass++) {
        for (Py_ssize_t i = 0; i < n; i++) {
            int other = hows[i] < 0;
            int apart = hows[i] == HOW_INSTANCE && !instances_plain;
            if (pass == 0 ? other : apart) {
                if (PyList_Append(rest, PyList_GET_ITEM(level, i)) < 0 ||
                    PyList_Append(rest_ids, PyList_GET_ITEM(ids, i)) < 0) {
                    goto error;
                }
            }
        }
    }
    /* lists (and sets...), then dicts, then instances and their dicts, as the twin does */
    static const int order[] = {HOW_ITEMS, HOW_DICT, HOW_INSTANCE};
    for (int k = 0; k < 3; k++) {
        int want = order[k];
        if (want == HOW_INSTANCE && !instances_plain) {
            break;
        }
        PyObject *into = want == HOW_ITEMS ? bulk : dicts;
        Py_ssize_t j = 0;  /* (index into own, for instances) */
        if (want == HOW_INSTANCE) {
            fresh = PyList_New(0);
            if (fresh == NULL) {
                goto error;
            }
        }
        for (Py_ssize_t i = 0; i < n; i++) {
            if (hows[i] != want) {
                continue;
            }
            PyObject *obj = PyList_GET_ITEM(level, i);
            int new = claim(found, PyList_GET_ITEM(ids, i), obj);
            if (new < 0) {
                goto error;
            }
            if (want == HOW_INSTANCE) {
                PyObject *d = PyList_GET_ITEM(own, j++);
                if (new && PyList_Append(fresh, d) < 0) {
                    goto error;
                }
            }
            else if (new && PyList_Append(into, obj) < 0) {
                goto error;
            }
        }
        if (want == HOW_INSTANCE) {
            Py_ssize_t m = PyList_GET_SIZE(fresh);
            for (Py_ssize_t i = 0; i < m; i++) {
                PyObject *d = PyList_GET_ITEM(fresh, i);
                PyObject *did = PyLong_FromVoidPtr(d);
                int new = did == NULL ? -1 : claim(found, did, d);
                Py_XDECREF(did);
                if (new < 0 || (new && PyList_Append(dicts, d) < 0)) {
                    goto error;
                }
            }
        }
    }
    PyMem_Free(hows);
    Py_XDECREF(own);
    Py_XDECREF(fresh);
    Py_DECREF(dict_name);
    PyObject *result = PyTuple_Pack(2, rest, rest_ids);
    Py_DECREF(rest);
    Py_DECREF(rest_ids);
    return result;
error:
    PyMem_Free(hows);
    Py_XDECREF(dict_name);
    Py_XDECREF(rest);
    Py_XDECREF(rest_ids);
    Py_XDECREF(own);
    Py_XDECREF(fresh);
    return NULL;
}

/* Append ref to out unless keep[type(ref)] is False (a type missing from keep is kept). */
static int
keep_ref(PyObject *ref, PyObject *out, PyObject *keep)
{
    PyObject *k = PyDict_GetItemWithError(keep, (PyObject *)Py_TYPE(ref));
    if (k == NULL && PyErr_Occurred()) {
        return -1;
    }
    if (k == Py_False) {
        return 0;
    }
    return PyList_Append(out, ref);
}

static int
visit_append(PyObject *ref, void *list)
{
    return PyList_Append((PyObject *)list, ref);
}

static int
is_plain_value(PyObject *o)
{
    PyTypeObject *t = Py_TYPE(o);
    return t == &PyUnicode_Type || t == &PyLong_Type || t == &PyFloat_Type || t == &PyBool_Type ||
           o == Py_None || t == &PyBytes_Type || t == &PyComplex_Type;
}

/* children(bulk, dicts, keep) -> list: what the walk looks at next.

   Python twin: freezing._children_py. The items of `bulk` (each one's referents as gc
   sees them, in order), then the values of `dicts`, then their keys if one is not a
   plain value; those whose type `keep` maps to False left out. */
static PyObject *
children(PyObject *self, PyObject *args)
{
    PyObject *bulk, *dicts, *keep;
    if (!PyArg_ParseTuple(args, "O!O!O!", &PyList_Type, &bulk, &PyList_Type, &dicts, &PyDict_Type, &keep)) {
        return NULL;
    }
    PyObject *out = PyList_New(0), *tmp = PyList_New(0);
    if (out == NULL || tmp == NULL) {
        goto error;
    }
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(bulk); i++) {
        PyObject *obj = PyList_GET_ITEM(bulk, i);
        if (PyList_CheckExact(obj)) {
            /* (a list's items, in order: what gc shows, reversed back) */
            for (Py_ssize_t j = 0; j < PyList_GET_SIZE(obj); j++) {
                if (keep_ref(PyList_GET_ITEM(obj, j), out, keep) < 0) {
                    goto error;
                }
            }
            continue;
        }
        if (!PyObject_IS_GC(obj) || Py_TYPE(obj)->tp_traverse == NULL) {
            continue;
        }
        if (PyList_SetSlice(tmp, 0, PyList_GET_SIZE(tmp), NULL) < 0 ||
            Py_TYPE(obj)->tp_traverse(obj, visit_append, tmp) != 0) {
            goto error;
        }
        for (Py_ssize_t j = PyList_GET_SIZE(tmp) - 1; j >= 0; j--) {
            if (keep_ref(PyList_GET_ITEM(tmp, j), out, keep) < 0) {
                goto error;
            }
        }
    }
    int odd_keys = 0;
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(dicts); i++) {
        PyObject *d = PyList_GET_ITEM(dicts, i), *key, *value;
        if (!PyDict_Check(d)) {
            PyErr_Format(PyExc_TypeError, "children: expected a dict, not %.100s", Py_TYPE(d)->tp_name);
            goto error;
        }
        Py_ssize_t pos = 0;
        while (PyDict_Next(d, &pos, &key, &value)) {
            odd_keys |= !is_plain_value(key);
            if (keep_ref(value, out, keep) < 0) {
                goto error;
            }
        }
    }
    if (odd_keys) {
        for (Py_ssize_t i = 0; i < PyList_GET_SIZE(dicts); i++) {
            PyObject *key, *value;
            Py_ssize_t pos = 0;
            while (PyDict_Next(PyList_GET_ITEM(dicts, i), &pos, &key, &value)) {
                if (keep_ref(key, out, keep) < 0) {
                    goto error;
                }
            }
        }
    }
    Py_DECREF(tmp);
    return out;
error:
    Py_XDECREF(out);
    Py_XDECREF(tmp);
    return NULL;
}

static PyMethodDef methods[] = {
    {"take_plain", take_plain, METH_VARARGS, "freezing._take_plain_py, in C."},
    {"children", children, METH_VARARGS, "freezing._children_py, in C."},
    {NULL, NULL, 0, NULL},
};

static PyModuleDef_Slot slots[] = {
    {Py_mod_multiple_interpreters, Py_MOD_PER_INTERPRETER_GIL_SUPPORTED},
    {0, NULL},
};

static struct PyModuleDef module_def = {
    .m_base = PyModuleDef_HEAD_INIT,
    .m_name = "_freezewalk",
    .m_doc = "The hot loops of freeze's walk, in C (optional; see freezing.py).",
    .m_size = 0,
    .m_methods = methods,
    .m_slots = slots,
};

PyMODINIT_FUNC
PyInit__freezewalk(void)
{
    return PyModuleDef_Init(&module_def);
}
