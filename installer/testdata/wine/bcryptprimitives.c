/*
 * A stand-in bcryptprimitives.dll for running Go 1.24+ Windows programs under
 * Wine 8, which lacks it: Go's runtime gets its random bytes from
 * ProcessPrng. This one forwards to advapi32's SystemFunction036
 * (RtlGenRandom). A test fixture only; never shipped.
 *
 *   x86_64-w64-mingw32-gcc -shared -O2 -o bcryptprimitives.dll bcryptprimitives.c bcryptprimitives.def -ladvapi32
 */
#include <windows.h>

BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);

BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T length)
{
	while (length > 0) {
		ULONG n = length > 0x10000000 ? 0x10000000 : (ULONG)length;
		if (!SystemFunction036(data, n))
			return FALSE;
		data += n;
		length -= n;
	}
	return TRUE;
}
