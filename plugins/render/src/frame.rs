//! One frame, validated and copied on the caller's thread.

use crate::error::RenderError;

/// The largest width or height accepted (libx264's limit is 16384 × 16384... and beyond that a
/// frame is a bug, not a rendering).
pub const MAX_DIMENSION: u32 = 8192;

/// How the frame's bytes are laid out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PixelLayout {
    /// 3 bytes per pixel, R G B.
    Rgb24,
    /// 1 byte per pixel.
    Gray8,
}

impl PixelLayout {
    /// Bytes per pixel.
    pub fn channels(self) -> usize {
        match self {
            PixelLayout::Rgb24 => 3,
            PixelLayout::Gray8 => 1,
        }
    }

    /// From the size of an array's last axis: `(H, W)` has none, `(H, W, 1)` is gray, `(H, W, 3)`
    /// is RGB.
    pub fn from_shape(shape: &[usize]) -> Result<(u32, u32, PixelLayout), RenderError> {
        let (h, w, layout) = match *shape {
            [h, w] => (h, w, PixelLayout::Gray8),
            [h, w, 1] => (h, w, PixelLayout::Gray8),
            [h, w, 3] => (h, w, PixelLayout::Rgb24),
            [_, _, c] => {
                return Err(RenderError::invalid(
                    "frame",
                    format!("has {c} channels; expected (H, W, 3) RGB or (H, W) / (H, W, 1) gray"),
                ))
            }
            _ => {
                return Err(RenderError::invalid(
                    "frame",
                    format!(
                        "has rank {} (shape {shape:?}); expected (H, W, 3) RGB or (H, W) / (H, W, 1) gray",
                        shape.len()
                    ),
                ))
            }
        };
        let dim = |n: usize, name: &str| -> Result<u32, RenderError> {
            let n32 = u32::try_from(n).unwrap_or(u32::MAX);
            if n32 == 0 || n32 > MAX_DIMENSION {
                return Err(RenderError::invalid(
                    "frame",
                    format!("{name} {n} is out of range 1..={MAX_DIMENSION}"),
                ));
            }
            if n32 % 2 != 0 {
                return Err(RenderError::invalid(
                    "frame",
                    format!("{name} {n} is odd; H.264 yuv420p needs even width and height"),
                ));
            }
            Ok(n32)
        };
        Ok((dim(h, "height")?, dim(w, "width")?, layout))
    }
}

/// A frame of one environment at one step, owned (copied from the caller's array).
#[derive(Clone, Debug, PartialEq)]
pub struct Frame {
    /// The environment (a safe path component; see [`check_env_id`]).
    pub env_id: String,
    /// Its episode; a new episode starts a new video.
    pub episode: i64,
    /// The RL step of this frame.
    pub rl_step: i64,
    /// Width in pixels (even).
    pub width: u32,
    /// Height in pixels (even).
    pub height: u32,
    /// Byte layout.
    pub layout: PixelLayout,
    /// `height` rows of `width * channels` bytes, no padding.
    pub data: Vec<u8>,
}

impl Frame {
    /// Checks everything that can be checked without the environment's history.
    pub fn validate(&self) -> Result<(), RenderError> {
        check_env_id(&self.env_id)?;
        if self.episode < 0 {
            return Err(RenderError::invalid(
                "episode",
                format!("{} is negative", self.episode),
            ));
        }
        let (h, w, layout) = PixelLayout::from_shape(&[
            self.height as usize,
            self.width as usize,
            self.layout.channels(),
        ])?;
        debug_assert_eq!((h, w, layout), (self.height, self.width, self.layout));
        let expected = self.width as usize * self.height as usize * self.layout.channels();
        if self.data.len() != expected {
            return Err(RenderError::invalid(
                "frame",
                format!(
                    "has {} bytes; {}x{} with {} channel(s) needs {expected}",
                    self.data.len(),
                    self.width,
                    self.height,
                    self.layout.channels()
                ),
            ));
        }
        Ok(())
    }
}

/// An env id names a directory: the runtime's rule for every env id
/// ([`telemetron_runtime::model::check_env_id`]).
pub fn check_env_id(env_id: &str) -> Result<(), RenderError> {
    telemetron_runtime::model::check_env_id(env_id)
        .map_err(|reason| RenderError::invalid("env_id", reason))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes_map_to_layouts_and_odd_sizes_are_refused() {
        assert_eq!(
            PixelLayout::from_shape(&[4, 6, 3]).unwrap(),
            (4, 6, PixelLayout::Rgb24)
        );
        assert_eq!(
            PixelLayout::from_shape(&[4, 6]).unwrap(),
            (4, 6, PixelLayout::Gray8)
        );
        assert_eq!(
            PixelLayout::from_shape(&[4, 6, 1]).unwrap(),
            (4, 6, PixelLayout::Gray8)
        );
        let odd = PixelLayout::from_shape(&[5, 6, 3]).unwrap_err().to_string();
        assert!(odd.contains("height 5 is odd"), "{odd}");
        let rank = PixelLayout::from_shape(&[4]).unwrap_err().to_string();
        assert!(rank.contains("rank 1"), "{rank}");
        let channels = PixelLayout::from_shape(&[4, 4, 4]).unwrap_err().to_string();
        assert!(channels.contains("4 channels"), "{channels}");
        assert!(PixelLayout::from_shape(&[0, 4]).is_err());
    }

    #[test]
    fn env_ids_must_be_safe_directory_names() {
        assert!(check_env_id("cartpole-3_a.b").is_ok());
        for bad in ["", "..", ".", "a/b", "a\\b", "é"] {
            assert!(check_env_id(bad).is_err(), "{bad:?} accepted");
        }
    }
}
