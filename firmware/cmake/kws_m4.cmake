# Board support and kws_add_m4_executable() for the Cortex-M4F on QEMU's mps2-an386.
#
#   kws_add_m4_executable(<name> SOURCES <src>... [LIBRARIES <lib>...] [STACK_SIZE <bytes>]
#                         [HOSTED])
#
# builds <name>.elf with the board's startup code, vector table, semihosting and timer
# driver, the mps2-an386 linker script, a map file <name>.map beside the ELF, and no heap:
# the link fails with "undefined reference to `__wrap_malloc'" if anything pulls malloc in.
# HOSTED: newlib stdio over semihosting (rdimon: fopen, printf) and the heap it needs, for
# programs written for a hosted C library (an exported library's example).
# An app either defines main() itself or defines kws_app_main(argc, argv) and gets argv
# from the semihosting command line (qemu -append).
set(KWS_BOARD_DIR "${CMAKE_CURRENT_LIST_DIR}/../boards/mps2_an386")

# Always linked (object library): reset, vectors, stack painting and the count markers.
add_library(kws_board_core OBJECT
  "${KWS_BOARD_DIR}/startup.c"
  "${KWS_BOARD_DIR}/stack.c")
target_include_directories(kws_board_core PUBLIC "${KWS_BOARD_DIR}")
# Linked on demand (static library): semihosting, timer, argv main.
add_library(kws_board STATIC
  "${KWS_BOARD_DIR}/semihost.c"
  "${KWS_BOARD_DIR}/timer.c"
  "${KWS_BOARD_DIR}/audio_stream.c"
  "${KWS_BOARD_DIR}/app_main.c")
target_include_directories(kws_board PUBLIC "${KWS_BOARD_DIR}")
target_compile_options(kws_board_core PRIVATE -Wall -Wextra)
target_compile_options(kws_board PRIVATE -Wall -Wextra)

set(KWS_NO_HEAP_LINK_OPTIONS
  -Wl,--wrap=malloc -Wl,--wrap=calloc -Wl,--wrap=realloc
  -Wl,--wrap=_malloc_r -Wl,--wrap=_calloc_r -Wl,--wrap=_realloc_r)

function(kws_add_m4_executable name)
  cmake_parse_arguments(ARG "HOSTED" "STACK_SIZE" "SOURCES;LIBRARIES" ${ARGN})
  if(NOT ARG_SOURCES)
    message(FATAL_ERROR "kws_add_m4_executable(${name}): SOURCES is required")
  endif()
  set(_heap ${KWS_NO_HEAP_LINK_OPTIONS})
  if(ARG_HOSTED)
    list(APPEND ARG_SOURCES "${KWS_BOARD_DIR}/hosted.c")
    set(_heap --specs=rdimon.specs)
  endif()
  add_executable(${name} ${ARG_SOURCES} $<TARGET_OBJECTS:kws_board_core>)
  set_target_properties(${name} PROPERTIES SUFFIX ".elf")
  target_include_directories(${name} PRIVATE "${KWS_BOARD_DIR}")
  target_link_libraries(${name} PRIVATE ${ARG_LIBRARIES} kws_board m)
  set(_stack "")
  if(ARG_STACK_SIZE)
    set(_stack "-Wl,--defsym=KWS_STACK_SIZE=${ARG_STACK_SIZE}")
  endif()
  target_link_options(${name} PRIVATE
    "-T${KWS_BOARD_DIR}/mps2_an386.ld"
    "-Wl,-Map=$<TARGET_FILE_DIR:${name}>/${name}.map"
    ${_stack}
    ${_heap})
  set_property(TARGET ${name} APPEND PROPERTY LINK_DEPENDS "${KWS_BOARD_DIR}/mps2_an386.ld")
endfunction()
