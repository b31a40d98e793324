/*
 * libfuzzer_main.c — the libFuzzer driver of one harness, chosen at compile
 * time with -DFUZZ_TARGET=fuzz_NAME (the Makefile's `fuzz` target builds one
 * binary per harness into build-fuzz/).
 */
#include "fuzz.h"

#ifndef FUZZ_TARGET
#error "compile with -DFUZZ_TARGET=fuzz_NAME"
#endif

const char *fuzz_input_name;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return FUZZ_TARGET(data, size);
}
