# The subset of CMSIS-DSP that kws uses (q15 RFFT and MFCC and their helpers), compiled from
# third_party/cmsis-dsp (scripts/fetch_third_party.sh) with our own cmsis_compiler.h.
#
# On the Cortex-M4 the DSP-extension path is selected by __ARM_FEATURE_DSP. On the host we
# define ARM_MATH_DSP=1 so the host takes the very same path, with the intrinsics emulated in
# plain C by firmware/cmsis/cmsis_compiler.h: host results equal the M4's bit for bit.
set(KWS_THIRD_PARTY "${CMAKE_CURRENT_LIST_DIR}/../../third_party" CACHE PATH "third_party/ folder")
set(KWS_CMSIS_DSP_DIR "${KWS_THIRD_PARTY}/cmsis-dsp")
if(NOT EXISTS "${KWS_CMSIS_DSP_DIR}/Include/arm_math.h")
  message(FATAL_ERROR "CMSIS-DSP not found in ${KWS_CMSIS_DSP_DIR}: run scripts/fetch_third_party.sh")
endif()

set(_d "${KWS_CMSIS_DSP_DIR}/Source")
set(KWS_CMSIS_DSP_SOURCES
  ${_d}/TransformFunctions/arm_rfft_q15.c
  ${_d}/TransformFunctions/arm_rfft_init_q15.c
  ${_d}/TransformFunctions/arm_cfft_q15.c
  ${_d}/TransformFunctions/arm_cfft_init_q15.c
  ${_d}/TransformFunctions/arm_cfft_radix4_q15.c
  ${_d}/TransformFunctions/arm_cfft_radix2_q15.c
  ${_d}/TransformFunctions/arm_bitreversal2.c
  ${_d}/TransformFunctions/arm_bitreversal.c
  ${_d}/TransformFunctions/arm_mfcc_q15.c
  ${_d}/TransformFunctions/arm_mfcc_init_q15.c
  ${_d}/CommonTables/arm_common_tables.c
  ${_d}/CommonTables/arm_const_structs.c
  ${_d}/StatisticsFunctions/arm_absmax_q15.c
  ${_d}/FastMathFunctions/arm_divide_q15.c
  ${_d}/FastMathFunctions/arm_vlog_q31.c
  ${_d}/BasicMathFunctions/arm_scale_q15.c
  ${_d}/BasicMathFunctions/arm_scale_q31.c
  ${_d}/BasicMathFunctions/arm_mult_q15.c
  ${_d}/BasicMathFunctions/arm_dot_prod_q15.c
  ${_d}/BasicMathFunctions/arm_offset_q31.c
  ${_d}/BasicMathFunctions/arm_shift_q31.c
  ${_d}/BasicMathFunctions/arm_shift_q15.c
  ${_d}/BasicMathFunctions/arm_abs_q15.c
  ${_d}/FastMathFunctions/arm_sqrt_q31.c
  ${_d}/ComplexMathFunctions/arm_cmplx_mag_q15.c
  ${_d}/MatrixFunctions/arm_mat_vec_mult_q15.c
)
unset(_d)

# kws_cmsis_dsp_library(<target> [SHARED_OK]): a static library of the subset above.
function(kws_cmsis_dsp_library target)
  add_library(${target} STATIC ${KWS_CMSIS_DSP_SOURCES})
  # Our cmsis_compiler.h first; CMSIS-DSP's own headers after it.
  target_include_directories(${target} SYSTEM PUBLIC
    "${CMAKE_CURRENT_FUNCTION_LIST_DIR}/../cmsis"
    "${KWS_CMSIS_DSP_DIR}/Include"
    "${KWS_CMSIS_DSP_DIR}/PrivateInclude")
  target_compile_definitions(${target} PUBLIC ARM_MATH_LOOPUNROLL)
  if(NOT CMAKE_CROSSCOMPILING)
    target_compile_definitions(${target} PUBLIC ARM_MATH_DSP=1)
    set_target_properties(${target} PROPERTIES POSITION_INDEPENDENT_CODE ON)
  endif()
  target_compile_options(${target} PRIVATE -w)
endfunction()
