// The Element Plus components the console's pages use, each with its own stylesheet (the package's
// per-component style entries) and the console's theme over them (element-theme.css). Pages import the
// components from here, so only these are built in.
import 'element-plus/es/components/button/style/css';
import 'element-plus/es/components/date-picker/style/css';
import 'element-plus/es/components/dialog/style/css';
import 'element-plus/es/components/form/style/css';
import 'element-plus/es/components/form-item/style/css';
import 'element-plus/es/components/input/style/css';
import 'element-plus/es/components/pagination/style/css';
import 'element-plus/es/components/table/style/css';
import 'element-plus/es/components/table-column/style/css';
import './element-theme.css';

export {
  ElButton,
  ElDatePicker,
  ElDialog,
  ElForm,
  ElFormItem,
  ElInput,
  ElPagination,
  ElTable,
  ElTableColumn,
  type FormInstance,
  type FormRules,
} from 'element-plus';
