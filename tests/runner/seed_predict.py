# The seed's predict.py, unchanged below this header, so tests can run it under
# `forestbatch run --exec`. Source: the seed reference architecture (MIT-0):
#
# Copyright Amazon.com, Inc. or its affiliates. All Rights Reserved.
#
# Permission is hereby granted, free of charge, to any person obtaining a copy of
# this software and associated documentation files (the "Software"), to deal in
# the Software without restriction, including without limitation the rights to
# use, copy, modify, merge, publish, distribute, sublicense, and/or sell copies of
# the Software, and to permit persons to whom the Software is furnished to do so.
#
# THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR
# IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY, FITNESS
# FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE AUTHORS OR
# COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER LIABILITY, WHETHER
# IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM, OUT OF OR IN
# CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE SOFTWARE.
#

import joblib
import sys
import pandas as pd
from pandas import DataFrame

# Read test data
x_test = pd.read_csv(str(sys.argv[1]))
print('Read test data from filesystem..')

# Load model file
loaded_rf = joblib.load("model.joblib")
print('Trained model file loaded..')

# Run predictions
prediction = loaded_rf.predict(x_test)
preds = DataFrame(prediction)

# Save data
preds.to_csv(str(sys.argv[2]))
print('Results sent to filesystem..')
