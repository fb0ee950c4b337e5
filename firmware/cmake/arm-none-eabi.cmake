# CMake toolchain file: GCC arm-none-eabi for the Cortex-M4F (mps2-an386 under QEMU, or a board).
#   cmake -S firmware -B build/m4 -G Ninja -DCMAKE_TOOLCHAIN_FILE=firmware/cmake/arm-none-eabi.cmake
set(CMAKE_SYSTEM_NAME Generic)
set(CMAKE_SYSTEM_PROCESSOR cortex-m4)
set(CMAKE_TRY_COMPILE_TARGET_TYPE STATIC_LIBRARY)

find_program(KWS_ARM_GCC arm-none-eabi-gcc)
if(NOT KWS_ARM_GCC)
  message(FATAL_ERROR "arm-none-eabi-gcc not found: install gcc-arm-none-eabi and libnewlib-arm-none-eabi")
endif()
get_filename_component(_kws_tc_dir "${KWS_ARM_GCC}" DIRECTORY)
set(CMAKE_C_COMPILER "${_kws_tc_dir}/arm-none-eabi-gcc")
set(CMAKE_ASM_COMPILER "${_kws_tc_dir}/arm-none-eabi-gcc")
set(CMAKE_OBJCOPY "${_kws_tc_dir}/arm-none-eabi-objcopy" CACHE FILEPATH "")
set(CMAKE_SIZE "${_kws_tc_dir}/arm-none-eabi-size" CACHE FILEPATH "")

set(KWS_M4_CPU_FLAGS "-mcpu=cortex-m4 -mthumb -mfloat-abi=hard -mfpu=fpv4-sp-d16")
set(CMAKE_C_FLAGS_INIT "${KWS_M4_CPU_FLAGS} -ffunction-sections -fdata-sections -fno-common")
set(CMAKE_ASM_FLAGS_INIT "${KWS_M4_CPU_FLAGS}")
set(CMAKE_C_FLAGS_RELEASE_INIT "-O2")
set(CMAKE_C_FLAGS_RELWITHDEBINFO_INIT "-O2 -g")
# Newlib-nano for memcpy/memset and friends; no start files (the board has its own), no
# system-call stubs (so anything that needs a heap or a file system fails to link).
set(CMAKE_EXE_LINKER_FLAGS_INIT "${KWS_M4_CPU_FLAGS} --specs=nano.specs -nostartfiles -Wl,--gc-sections")

set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
