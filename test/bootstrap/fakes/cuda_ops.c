/* A real compiled extension standing in for LMCache's lmcache.cuda_ops. Built with -DUNDEFINED_SYMBOL it fails to
 * load the way a kernel module built against another torch does (an undefined symbol). */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#ifdef UNDEFINED_SYMBOL
extern void _ZN3c104cuda9SetDeviceEa(void);
#endif

static PyObject *multi_layer_kv_transfer(PyObject *self, PyObject *args) {
#ifdef UNDEFINED_SYMBOL
    _ZN3c104cuda9SetDeviceEa();
#endif
    Py_RETURN_NONE;
}

static PyMethodDef methods[] = {
    {"multi_layer_kv_transfer", multi_layer_kv_transfer, METH_VARARGS, NULL},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "cuda_ops", NULL, -1, methods};

PyMODINIT_FUNC PyInit_cuda_ops(void) { return PyModule_Create(&module); }
