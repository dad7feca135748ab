# sluice — top-level Makefile.
#
#   make                      build bin/sluice
#   make test                 build, then run every test (unit, fixture, integration); the
#                             last line is "N passed, N failed"
#   make SANITIZER=address    build with ASan+UBSan (objects go to build/address/)
#   make bench                decode benchmark against mariadb-binlog, then the live pipeline
#                             (file, Kafka and one libsluice client; scripts/bench-live.sh)
#   make fuzz                 run the decoder fuzz target for FUZZ_SECONDS (default 60)
#   make style-check          clang-format 14 check of every source file
#   make man                  build/sluice.1, the man page (from `sluice help --man`)
#   make install              PREFIX (/usr/local), DESTDIR: binary, man page, example config,
#                             systemd unit
#   make deb                  build/sluice_VERSION_ARCH.deb (dpkg-deb; scripts/deb/)

CC        ?= cc
SANITIZER ?=
WERROR    ?= 1
O         ?= 2

BUILD  := build/$(if $(SANITIZER),$(SANITIZER),default)
BIN    := bin

# OpenSSL: libcrypto (SHA-256, HMAC) and libssl (TLS of the client protocol), in the daemon and
# in libsluice alike.
SSL_LIBS   := $(shell pkg-config --libs libssl libcrypto 2>/dev/null || echo -lssl -lcrypto)
PKG_CFLAGS := $(shell pkg-config --cflags libzstd zlib yaml-0.1 rdkafka libmicrohttpd 2>/dev/null) \
              $(patsubst -I%,-isystem %,$(shell pkg-config --cflags libmariadb))
PKG_LIBS   := $(shell pkg-config --libs libzstd zlib yaml-0.1 rdkafka libmicrohttpd 2>/dev/null || echo -lzstd -lz -lyaml -lrdkafka -lmicrohttpd) \
              $(shell pkg-config --libs libmariadb) \
              $(SSL_LIBS)

WARN := -Wall -Wextra -Wstrict-prototypes -Wmissing-prototypes -Wshadow -Wformat=2 \
        -Wpointer-arith -Wvla -Wimplicit-fallthrough -Wno-format-nonliteral
ifeq ($(WERROR),1)
WARN += -Werror
endif

CFLAGS  ?= -O$(O) -g
CFLAGS  += -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -MMD -MP $(WARN) \
           -Isrc -Isrc/util -Iinclude $(PKG_CFLAGS)
LDLIBS  += $(PKG_LIBS) -lzookeeper_mt -lm -lpthread

ifeq ($(SANITIZER),address)
CFLAGS  += -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
LDFLAGS += -fsanitize=address,undefined
else ifeq ($(SANITIZER),thread)
CFLAGS  += -fsanitize=thread
LDFLAGS += -fsanitize=thread
endif

LIB_SRCS := $(filter-out src/main.c,$(wildcard src/*.c src/util/*.c sinks/*.c meta/*.c)) \
            src/client/sluice_client.c src/client/discover.c
LIB_OBJS := $(LIB_SRCS:%.c=$(BUILD)/%.o)
LIB      := $(BUILD)/libsluice.a

UNIT_SRCS := $(wildcard test/unit/test_*.c)
UNIT_BINS := $(UNIT_SRCS:test/unit/%.c=$(BUILD)/test/%)

SLUICE := $(BIN)/sluice$(if $(SANITIZER),-$(SANITIZER),)
# A local Kafka (librdkafka's mock cluster) for the quick start, the tests and the benchmark.
KAFKA_MOCK := $(BIN)/sluice-kafka-mock

# libsluice, the client library (include/sluice_client.h): its own -fPIC objects of the client
# and the frame codec only, as build/libsluice.a and build/libsluice.so (link with -lssl -lcrypto
# -lzookeeper_mt). Compiled with -fvisibility=hidden: only what the header marks SLUICE_API is
# exported by the .so; the .a holds one object, the three linked together (ld -r) with the
# hidden symbols made local (objcopy --localize-hidden), so the frame codec's proto_* cannot
# clash with an application's symbols either. test/integration/95-client.sh checks both with nm.
CLIENT_SRCS := src/client/sluice_client.c src/client/discover.c src/protocol.c
CLIENT_OBJS := $(CLIENT_SRCS:%.c=build/pic/%.o)
CLIENT_LIBS := build/libsluice.a build/libsluice.so
# What an application linking libsluice needs besides it (TLS; ZooKeeper for cluster discovery).
CLIENT_DEPS := $(SSL_LIBS) -lzookeeper_mt -lpthread

.PHONY: all test unit-tests bench fuzz clean style style-check
all: $(SLUICE) $(KAFKA_MOCK) $(CLIENT_LIBS)

# The ZooKeeper client hides its synchronous API unless THREADED is defined (libzookeeper_mt).
$(BUILD)/meta/zk.o $(BUILD)/meta/zk_session.o $(BUILD)/src/cluster.o $(BUILD)/src/members.o $(BUILD)/src/cmd_cluster.o $(BUILD)/sinks/hub.o build/pic/src/client/discover.o $(BUILD)/src/client/discover.o: CFLAGS += -DTHREADED

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c -o $@ $<

$(LIB): $(LIB_OBJS)
	@rm -f $@
	ar rcs $@ $^

$(SLUICE): $(BUILD)/src/main.o $(LIB)
	@mkdir -p $(BIN)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(KAFKA_MOCK): test/kafka_mock.c
	@mkdir -p $(BIN)
	$(CC) $(CFLAGS) -o $@ $< $(LDFLAGS) $(LDLIBS)

$(BUILD)/test/%: test/unit/%.c $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Wno-missing-prototypes $(shell pkg-config --cflags cunit 2>/dev/null) \
	    -o $@ $< $(LIB) $(LDFLAGS) $(LDLIBS) $(shell pkg-config --libs cunit 2>/dev/null || echo -lcunit)

unit-tests: $(UNIT_BINS)


.PHONY: client-lib examples
client-lib: $(CLIENT_LIBS)

build/pic/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -fPIC -fvisibility=hidden -c -o $@ $<

build/libsluice.a: $(CLIENT_OBJS)
	@rm -f $@
	$(LD) -r -o build/pic/libsluice.o $^
	objcopy --localize-hidden build/pic/libsluice.o
	ar rcs $@ build/pic/libsluice.o

build/libsluice.so: $(CLIENT_OBJS)
	$(CC) $(LDFLAGS) -shared -Wl,-soname,libsluice.so.1 -o $@ $^ $(CLIENT_DEPS)

examples: build/examples/consume

build/examples/consume: examples/consume.c build/libsluice.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $< build/libsluice.a $(LDFLAGS) $(CLIENT_DEPS)

# The test runner takes the binaries it should use from the environment.
test: $(SLUICE) $(KAFKA_MOCK) unit-tests
	LSAN_OPTIONS=suppressions=$(abspath test/lsan.supp)$${LSAN_OPTIONS:+:$$LSAN_OPTIONS} \
	SLUICE=$(abspath $(SLUICE)) KAFKA_MOCK=$(abspath $(KAFKA_MOCK)) UNIT_DIR=$(abspath $(BUILD)/test) sh test/run.sh

# The client part of the benchmark (scripts/bench-live.sh part 4): a libsluice get + ack loop.
CLIENT_BENCH := build/bench/client_bench

$(CLIENT_BENCH): test/bench/client_bench.c build/libsluice.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $< build/libsluice.a $(LDFLAGS) \
	    $(CLIENT_DEPS)

# Its stopwatch: polls `sluice run`'s admin endpoint in one process until it caught up.
WAIT_BENCH := $(BUILD)/bench/wait_caught_up

$(WAIT_BENCH): test/bench/wait_caught_up.c $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $< $(LIB) $(LDFLAGS) $(LDLIBS)

# The Kafka part's peer: librdkafka alone, messages shaped like the sink's, nothing decoded.
KAFKA_FLOOR := $(BUILD)/bench/kafka_floor

$(KAFKA_FLOOR): test/bench/kafka_floor.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $< $(LDFLAGS) -lrdkafka

bench: $(SLUICE) $(KAFKA_MOCK) $(CLIENT_BENCH) $(WAIT_BENCH) $(KAFKA_FLOOR)
	SLUICE=$(abspath $(SLUICE)) KAFKA_MOCK=$(abspath $(KAFKA_MOCK)) \
	    CLIENT_BENCH=$(abspath $(CLIENT_BENCH)) WAIT_BENCH=$(abspath $(WAIT_BENCH)) \
	    KAFKA_FLOOR=$(abspath $(KAFKA_FLOOR)) \
	    sh scripts/bench.sh

FUZZ_SECONDS ?= 60
fuzz:
	sh test/fuzz/run.sh $(FUZZ_SECONDS)

style-check:
	@clang-format --dry-run --Werror $$(git ls-files '*.c' '*.h')

style:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf build bin

# ---- man page, install, .deb -------------------------------------------------------------
# The man page is rendered by the binary itself from the help table in src/help.c, so
# `sluice CMD --help` and sluice(1) cannot differ. Not installed: bin/sluice-kafka-mock (a
# test double keeping messages in memory, not for production hosts). The client library,
# its header and a pkg-config file go in too (`make install-client` alone: LIBDIR, INCLUDEDIR).
PREFIX     ?= /usr/local
DESTDIR    ?=
BINDIR     ?= $(PREFIX)/bin
MANDIR     ?= $(PREFIX)/share/man
DOCDIR     ?= $(PREFIX)/share/doc/sluice
UNITDIR    ?= $(if $(filter /usr,$(PREFIX)),/lib/systemd/system,$(PREFIX)/lib/systemd/system)
INSTALL    ?= install
VERSION    := $(shell sed -n 's/^\#define SLUICE_VERSION "\(.*\)"/\1/p' src/version.h)
DEB_ARCH   := $(shell dpkg --print-architecture 2>/dev/null || echo amd64)
DEB        := build/sluice_$(VERSION)_$(DEB_ARCH).deb

.PHONY: man install deb
man: build/sluice.1

build/sluice.1: $(BIN)/sluice
	@mkdir -p build
	$(BIN)/sluice help --man >$@.tmp && mv $@.tmp $@

install: $(BIN)/sluice build/sluice.1 install-client
	$(INSTALL) -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(DOCDIR) \
	    $(DESTDIR)$(UNITDIR)
	$(INSTALL) -m 755 $(BIN)/sluice $(DESTDIR)$(BINDIR)/sluice
	$(INSTALL) -m 644 build/sluice.1 $(DESTDIR)$(MANDIR)/man1/sluice.1
	$(INSTALL) -m 644 conf/sluice.yaml $(DESTDIR)$(DOCDIR)/sluice.yaml
	$(INSTALL) -m 644 docs/configuration.md $(DESTDIR)$(DOCDIR)/configuration.md
	$(INSTALL) -m 644 docs/formats.md $(DESTDIR)$(DOCDIR)/formats.md
	sed 's|/usr/bin/sluice|$(BINDIR)/sluice|g' scripts/sluice.service \
	    >$(DESTDIR)$(UNITDIR)/sluice.service
	chmod 644 $(DESTDIR)$(UNITDIR)/sluice.service

LIBDIR     ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include

.PHONY: install-client
install-client: $(CLIENT_LIBS)
	$(INSTALL) -d $(DESTDIR)$(LIBDIR)/pkgconfig $(DESTDIR)$(INCLUDEDIR)
	$(INSTALL) -m 644 build/libsluice.a $(DESTDIR)$(LIBDIR)/libsluice.a
	$(INSTALL) -m 755 build/libsluice.so $(DESTDIR)$(LIBDIR)/libsluice.so.1
	ln -sf libsluice.so.1 $(DESTDIR)$(LIBDIR)/libsluice.so
	$(INSTALL) -m 644 include/sluice_client.h $(DESTDIR)$(INCLUDEDIR)/sluice_client.h
	printf 'prefix=%s\nlibdir=%s\nincludedir=%s\n\nName: libsluice\nDescription: %s\nVersion: %s\nLibs: -L$${libdir} -lsluice\nLibs.private: -lssl -lcrypto -lzookeeper_mt -lpthread\nRequires.private: libssl libcrypto\nCflags: -I$${includedir}\n' \
	    '$(PREFIX)' '$(LIBDIR)' '$(INCLUDEDIR)' 'client of the sluice daemon (get/ack/rollback)' \
	    '$(VERSION)' >$(DESTDIR)$(LIBDIR)/pkgconfig/libsluice.pc

# The package: `make install` into a staging tree with PREFIX=/usr, then the control file and
# maintainer scripts of scripts/deb/ (Depends: the libraries bin/sluice links, see ldd).
deb: $(BIN)/sluice build/sluice.1
	rm -rf build/deb $(DEB)
	$(MAKE) --no-print-directory install DESTDIR=$(abspath build/deb) PREFIX=/usr
	strip --strip-unneeded build/deb/usr/bin/sluice
	gzip -9n build/deb/usr/share/man/man1/sluice.1
	$(INSTALL) -d build/deb/DEBIAN
	sed -e 's/@VERSION@/$(VERSION)/' -e 's/@ARCH@/$(DEB_ARCH)/' \
	    -e "s/@SIZE@/$$(du -sk build/deb | cut -f1)/" scripts/deb/control >build/deb/DEBIAN/control
	$(INSTALL) -m 755 scripts/deb/postinst scripts/deb/postrm build/deb/DEBIAN/
	dpkg-deb --root-owner-group --build build/deb $(DEB)

-include $(LIB_OBJS:.o=.d) $(BUILD)/src/main.d $(CLIENT_OBJS:.o=.d)
