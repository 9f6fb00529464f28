/* shm_seg.c - create and map a shared-memory segment (shm_seg.h). */
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include "shm_seg.h"
#include "wk_log.h"

void *
shm_seg_create(const char *name, size_t size)
{
	void *p;
	int fd;

	shm_unlink(name);
	if ((fd = shm_open(name, O_RDWR | O_CREAT | O_EXCL, 0600)) < 0) {
		wk_log_warn("shm_open %s", name);
		return NULL;
	}
	if (ftruncate(fd, (off_t)size) < 0) {
		wk_log_warn("ftruncate %s", name);
		p = MAP_FAILED;
	} else if ((p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0)) == MAP_FAILED)
		wk_log_warn("mmap %s", name);
	close(fd);
	if (p == MAP_FAILED) {
		shm_unlink(name);
		return NULL;
	}
	return p;
}

void *
shm_seg_open(const char *name, int writable, size_t *size)
{
	struct stat st;
	void *p;
	int fd;

	if ((fd = shm_open(name, writable ? O_RDWR : O_RDONLY, 0)) < 0) {
		wk_log_warn("shm_open %s", name);
		return NULL;
	}
	if (fstat(fd, &st) < 0 || st.st_size == 0) {
		wk_log_warnx("segment %s: empty", name);
		close(fd);
		return NULL;
	}
	p = mmap(NULL, (size_t)st.st_size, PROT_READ | (writable ? PROT_WRITE : 0), MAP_SHARED, fd, 0);
	close(fd);
	if (p == MAP_FAILED) {
		wk_log_warn("mmap %s", name);
		return NULL;
	}
	*size = (size_t)st.st_size;
	return p;
}
